//! What a run must do, decided against the current catalog: which files are unchanged (not
//! read at all when size and modification time match), which must be read, and which
//! documents are gone; then, for each file read, whether its content changed. A document this
//! run would read differently (PDF pages an earlier run left unread, now that OCR can read
//! them) is read again even when its file is unchanged.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::ids::DocId;
use crate::ingest::types::MailInfo;
use crate::ingest::walk::SourceFile;
use crate::store::{DocRecord, UnreadableFile};

/// The current index's documents by relative path.
pub(super) struct Known {
    docs: HashMap<PathBuf, (DocId, DocRecord)>,
    /// Files the current index records as unreadable, by relative path.
    unreadable: HashMap<PathBuf, UnreadableFile>,
    /// How this run reads every file, whatever its format: lexsearch's version, the size
    /// limit, OCR ([`read_with`](Self::read_with) adds the format's reader).
    reading: String,
    /// Documents to read again although their file is unchanged.
    rereads: HashSet<PathBuf>,
    /// The files that hold them: each such document's own path and its containers'.
    reread_files: HashSet<PathBuf>,
}

/// The files a run reads, and the documents it removes.
pub(super) struct Plan {
    /// Files whose size and modification time match the catalog (not read).
    pub unchanged: usize,
    /// Files to extract and chunk, in walk order.
    pub to_read: Vec<SourceFile>,
    /// Documents whose file is gone.
    pub gone: Vec<DocId>,
    /// Files recorded as unreadable that are unchanged and would be read the same way: not
    /// read again, reported as before.
    pub still_unreadable: Vec<UnreadableFile>,
    /// Files recorded as unreadable that are to be read again or are gone: their records go.
    pub unreadable_done: Vec<PathBuf>,
}

/// What a read file is, against the catalog.
pub(super) enum Classified {
    /// Same content: only its record changes (new size or modification time).
    Unchanged(DocId, DocRecord),
    /// Changed content: the old document `DocId` goes, the new one is added.
    Changed(DocId),
    /// Same content, read differently this time (OCR): replaced like a changed one.
    Reread(DocId),
    /// A file the index did not have.
    New,
}

impl Known {
    /// The documents of the current index (none for a rebuild or a new index).
    pub(super) fn new(docs: Vec<(DocId, DocRecord)>) -> Self {
        Known {
            docs: docs
                .into_iter()
                .map(|(id, rec)| (rec.rel.clone(), (id, rec)))
                .collect(),
            unreadable: HashMap::new(),
            rereads: HashSet::new(),
            reread_files: HashSet::new(),
            reading: String::new(),
        }
    }

    /// How this run reads `file` ([`UnreadableFile::read_with`]).
    pub(super) fn read_with(&self, file: &SourceFile) -> String {
        format!(
            "{} reader {}; {}",
            file.kind.name(),
            file.kind.reader_revision(),
            self.reading
        )
    }

    /// Adds the files the current index records as unreadable; one is read again when it
    /// changed or when this run, `reading` files so, would read it differently
    /// ([`read_with`](Self::read_with)).
    pub(super) fn with_unreadable(mut self, files: &[UnreadableFile], reading: String) -> Self {
        self.unreadable = files.iter().map(|u| (u.file.clone(), u.clone())).collect();
        self.reading = reading;
        self
    }

    /// Marks the documents for which `reads_differently` holds to be read again, their files
    /// unchanged or not.
    pub(super) fn with_rereads(mut self, reads_differently: impl Fn(&DocRecord) -> bool) -> Self {
        self.rereads = self
            .docs
            .iter()
            .filter(|(_, (_, rec))| reads_differently(rec))
            .map(|(rel, _)| rel.clone())
            .collect();
        self.reread_files = self
            .rereads
            .iter()
            .flat_map(|doc| std::iter::once(doc.clone()).chain(crate::ingest::containers_of(doc)))
            .collect();
        self
    }

    /// The current document of a file, if any.
    pub(super) fn get(&self, rel: &Path) -> Option<&(DocId, DocRecord)> {
        self.docs.get(rel)
    }

    /// The documents held in the container file `rel` (an e-mail's attachments).
    pub(super) fn contained_in<'a>(
        &'a self,
        rel: &'a Path,
    ) -> impl Iterator<Item = (&'a PathBuf, DocId)> + 'a {
        self.docs
            .iter()
            .filter(move |(doc, _)| crate::ingest::containers_of(doc).any(|c| c == rel))
            .map(|(doc, (id, _))| (doc, *id))
    }

    /// Splits the walked `files` into unchanged ones, ones to read, and documents gone.
    pub(super) fn plan(&self, files: Vec<SourceFile>) -> Plan {
        let mut plan = Plan {
            unchanged: 0,
            to_read: Vec::new(),
            gone: Vec::new(),
            still_unreadable: Vec::new(),
            unreadable_done: Vec::new(),
        };
        let mut seen: HashSet<PathBuf> = HashSet::new();
        for f in files {
            seen.insert(f.rel.clone());
            if let Some(u) = self.unreadable.get(&f.rel) {
                if u.size == f.size && u.mtime_ns == f.mtime_ns && u.read_with == self.read_with(&f)
                {
                    plan.still_unreadable.push(u.clone());
                    continue;
                }
                plan.unreadable_done.push(f.rel.clone());
            }
            match self.get(&f.rel) {
                Some((_, rec))
                    if rec.size == f.size
                        && rec.mtime_ns == f.mtime_ns
                        && !self.reread_files.contains(&f.rel) =>
                {
                    plan.unchanged += 1;
                }
                _ => plan.to_read.push(f),
            }
        }
        plan.gone = self
            .docs
            .iter()
            // An attachment (`mail.eml#a.pdf`) stays while its e-mail does.
            .filter(|(rel, _)| {
                !seen.contains(*rel)
                    && !crate::ingest::containers_of(rel).any(|parent| seen.contains(&parent))
            })
            .map(|(_, (id, _))| *id)
            .collect();
        plan.gone.sort();
        plan.unreadable_done.extend(
            self.unreadable
                .keys()
                .filter(|rel| !seen.contains(*rel))
                .cloned(),
        );
        plan.unreadable_done.sort();
        plan
    }

    /// Whether reading `to_read` may well add vectors: a new file, one whose size changed,
    /// or one read again by a newer reader or OCR. A file whose modification time alone
    /// changed is most often touched (copied again, checked out) with the same text.
    pub(super) fn expects_vectors(&self, to_read: &[SourceFile]) -> bool {
        to_read.iter().any(|f| match self.get(&f.rel) {
            Some((_, rec)) => rec.size != f.size || self.reread_files.contains(&f.rel),
            None => true,
        })
    }

    /// Takes out of `to_read` the files only touched (copied, unpacked or checked out again:
    /// a new modification time, the size and bytes the index recorded), each with its record
    /// given the new time, so that they are not read, extracted and chunked to find out. The
    /// bytes are hashed as the readers hash them (blake3 of the whole file), in parallel. An
    /// e-mail's (`.eml`, `.msg`) attachments, a mailbox's or an Outlook data file's messages
    /// are in its bytes (its own record's hash is of the whole file), so their records stay
    /// as they are with its own. A file this run reads again anyway (OCR, a newer reader), or
    /// one over `max_bytes` (which this run would not index) stays to be read.
    pub(super) fn take_touched(
        &self,
        to_read: &mut Vec<SourceFile>,
        max_bytes: u64,
    ) -> Vec<(DocId, DocRecord)> {
        use rayon::prelude::*;
        let touched = |f: &SourceFile| -> Option<(DocId, DocRecord)> {
            if f.size > max_bytes || self.reread_files.contains(&f.rel) {
                return None;
            }
            let (id, rec) = self.get(&f.rel)?;
            if rec.size != f.size {
                return None;
            }
            let hash = crate::ingest::extract::file_content_hash(&f.path).ok()?;
            (hash == rec.content_hash).then(|| {
                let mut rec = rec.clone();
                rec.mtime_ns = f.mtime_ns;
                (*id, rec)
            })
        };
        let found: Vec<Option<(DocId, DocRecord)>> = to_read.par_iter().map(touched).collect();
        let mut taken = Vec::new();
        let mut left = Vec::with_capacity(to_read.len());
        for (file, found) in to_read.drain(..).zip(found) {
            match found {
                Some(t) => taken.push(t),
                None => left.push(file),
            }
        }
        *to_read = left;
        taken
    }

    /// Classifies a document that was read, whose content hashes to `content_hash`, of the
    /// e-mail with headers `mail` (if any). A document whose content is the same but whose
    /// e-mail's headers are not (an attachment of an e-mail read by a newer reader, which
    /// keeps the folder, or the same attachment on another message of a mailbox) is read
    /// again: its chunks carry the headers.
    pub(super) fn classify(
        &self,
        file: &SourceFile,
        content_hash: &str,
        mail: Option<&MailInfo>,
    ) -> Classified {
        match self.get(&file.rel) {
            Some((id, rec))
                if rec.content_hash == content_hash
                    && (self.rereads.contains(&file.rel) || rec.mail.as_deref() != mail) =>
            {
                Classified::Reread(*id)
            }
            Some((id, rec)) if rec.content_hash == content_hash => {
                let mut rec = rec.clone();
                rec.mtime_ns = file.mtime_ns;
                rec.size = file.size;
                Classified::Unchanged(*id, rec)
            }
            Some((id, _)) => Classified::Changed(*id),
            None => Classified::New,
        }
    }
}

impl Plan {
    /// Whether the run has nothing to do.
    pub(super) fn is_empty(&self) -> bool {
        self.to_read.is_empty() && self.gone.is_empty() && self.unreadable_done.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::walk::FileKind;

    fn file(rel: &str, size: u64, mtime_ns: u64) -> SourceFile {
        SourceFile {
            path: PathBuf::from("/docs").join(rel),
            rel: PathBuf::from(rel),
            kind: FileKind::Text,
            size,
            mtime_ns,
        }
    }

    fn record(rel: &str, size: u64, mtime_ns: u64, hash: &str) -> DocRecord {
        DocRecord {
            content_hash: hash.into(),
            size,
            mtime_ns,
            ..DocRecord::test_text(rel)
        }
    }

    #[test]
    fn files_with_the_recorded_size_and_time_are_not_read_and_missing_ones_are_gone() {
        let known = Known::new(vec![
            (DocId(0), record("a.txt", 10, 1, "ha")),
            (DocId(1), record("b.txt", 10, 1, "hb")),
            (DocId(2), record("c.txt", 10, 1, "hc")),
            (DocId(3), record("mail.eml#a.pdf", 10, 1, "hm")),
            (DocId(4), record("gone.eml#a.pdf", 10, 1, "hg")),
        ]);
        let plan = known.plan(vec![
            file("a.txt", 10, 1),
            file("b.txt", 10, 2),
            file("d.txt", 5, 1),
            file("mail.eml", 5, 1),
        ]);
        assert_eq!(plan.unchanged, 1);
        let read: Vec<_> = plan.to_read.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(
            read,
            [
                PathBuf::from("b.txt"),
                PathBuf::from("d.txt"),
                PathBuf::from("mail.eml")
            ]
        );
        // An attachment stays while its e-mail is there, and goes with it.
        assert_eq!(plan.gone, [DocId(2), DocId(4)]);
        assert!(!plan.is_empty());
        assert!(Known::new(Vec::new()).plan(Vec::new()).is_empty());
    }

    #[test]
    fn new_resized_or_reread_files_are_expected_to_add_vectors_and_touched_ones_not() {
        let known = Known::new(vec![
            (DocId(0), record("a.txt", 10, 1, "ha")),
            (DocId(1), record("b.txt", 10, 1, "hb")),
        ]);
        let expects = |files: Vec<SourceFile>| known.expects_vectors(&known.plan(files).to_read);
        assert!(!expects(vec![file("a.txt", 10, 2), file("b.txt", 10, 1)]));
        assert!(!expects(vec![file("b.txt", 10, 1)]));
        assert!(expects(vec![file("a.txt", 11, 2), file("b.txt", 10, 1)]));
        assert!(expects(vec![file("a.txt", 10, 2), file("c.txt", 10, 2)]));
        let rereads = Known::new(vec![(DocId(0), record("a.txt", 10, 1, "ha"))])
            .with_rereads(|rec| rec.rel == Path::new("a.txt"));
        assert!(rereads.expects_vectors(&rereads.plan(vec![file("a.txt", 10, 1)]).to_read));
    }

    fn unreadable(rel: &str, size: u64, mtime_ns: u64, read_with: &str) -> UnreadableFile {
        UnreadableFile {
            file: PathBuf::from(rel),
            size,
            mtime_ns,
            reason: "corrupt PDF".into(),
            read_with: read_with.into(),
        }
    }

    #[test]
    fn a_file_that_could_not_be_read_is_read_again_only_once_it_or_the_way_of_reading_changed() {
        // How a run that reads files "v1" reads these (text) files; "v0" is another way.
        let v1 = &Known::new(Vec::new())
            .with_unreadable(&[], "v1".into())
            .read_with(&file("any.pdf", 0, 0));
        let known = Known::new(Vec::new()).with_unreadable(
            &[
                unreadable("same.pdf", 10, 1, v1),
                unreadable("touched.pdf", 10, 1, v1),
                unreadable("old-reader.pdf", 10, 1, "v0"),
                unreadable("gone.pdf", 10, 1, v1),
            ],
            "v1".into(),
        );
        let plan = known.plan(vec![
            file("same.pdf", 10, 1),
            file("touched.pdf", 10, 2),
            file("old-reader.pdf", 10, 1),
        ]);
        let still: Vec<_> = plan
            .still_unreadable
            .iter()
            .map(|u| u.file.clone())
            .collect();
        assert_eq!(still, [PathBuf::from("same.pdf")]);
        let read: Vec<_> = plan.to_read.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(
            read,
            [
                PathBuf::from("touched.pdf"),
                PathBuf::from("old-reader.pdf")
            ]
        );
        assert_eq!(
            plan.unreadable_done,
            ["gone.pdf", "old-reader.pdf", "touched.pdf"].map(PathBuf::from)
        );
        // Nothing but a still unreadable file: nothing to do, no new version.
        let plan = known.plan(vec![
            file("same.pdf", 10, 1),
            file("touched.pdf", 10, 1),
            file("old-reader.pdf", 10, 1),
            file("gone.pdf", 10, 1),
        ]);
        assert_eq!(plan.still_unreadable.len(), 3);
        assert!(!plan.is_empty(), "old-reader.pdf is read again");
        let same = Known::new(Vec::new())
            .with_unreadable(&[unreadable("same.pdf", 10, 1, v1)], "v1".into());
        assert!(same.plan(vec![file("same.pdf", 10, 1)]).is_empty());
    }

    #[test]
    fn a_read_file_is_unchanged_changed_or_new_by_its_content_hash() {
        let known = Known::new(vec![(DocId(7), record("a.txt", 10, 1, "ha"))]);
        match known.classify(&file("a.txt", 10, 9), "ha", None) {
            Classified::Unchanged(id, rec) => {
                assert_eq!(id, DocId(7));
                assert_eq!(rec.mtime_ns, 9);
            }
            _ => panic!("same content must be unchanged"),
        }
        assert!(matches!(
            known.classify(&file("a.txt", 11, 9), "other", None),
            Classified::Changed(DocId(7))
        ));
        assert!(matches!(
            known.classify(&file("new.txt", 1, 1), "x", None),
            Classified::New
        ));
    }

    #[test]
    fn unchanged_files_holding_a_document_to_read_again_are_read_and_replaced() {
        let known = Known::new(vec![
            (DocId(0), record("scan.pdf", 10, 1, "hs")),
            (DocId(1), record("plain.pdf", 10, 1, "hp")),
            (DocId(2), record("mail.eml", 10, 1, "he")),
            (DocId(3), record("mail.eml#scan.pdf", 10, 1, "ha")),
        ])
        .with_rereads(|rec| rec.rel.to_string_lossy().contains("scan"));
        let plan = known.plan(vec![
            file("scan.pdf", 10, 1),
            file("plain.pdf", 10, 1),
            file("mail.eml", 10, 1),
        ]);
        let read: Vec<_> = plan.to_read.iter().map(|f| f.rel.clone()).collect();
        // The e-mail is read for its attachment; the plain PDF is not read at all.
        assert_eq!(read, [PathBuf::from("scan.pdf"), PathBuf::from("mail.eml")]);
        assert_eq!(plan.unchanged, 1);
        // Same content, yet replaced; the e-mail itself stays as it was.
        assert!(matches!(
            known.classify(&file("scan.pdf", 10, 1), "hs", None),
            Classified::Reread(DocId(0))
        ));
        assert!(matches!(
            known.classify(&file("mail.eml#scan.pdf", 10, 1), "ha", None),
            Classified::Reread(DocId(3))
        ));
        assert!(matches!(
            known.classify(&file("mail.eml", 10, 1), "he", None),
            Classified::Unchanged(DocId(2), _)
        ));
    }

    #[test]
    fn a_document_of_the_same_content_under_other_e_mail_headers_is_read_again() {
        let folder = |f: Option<&str>| MailInfo {
            subject: Some("Lease".into()),
            folder: f.map(String::from),
            ..MailInfo::default()
        };
        let mut rec = record("Mail/cur/1700000000.M1P2.host:2,S#lease.pdf", 10, 1, "ha");
        rec.mail = Some(Box::new(folder(None)));
        let known = Known::new(vec![(DocId(4), rec)]);
        let attachment = file("Mail/cur/1700000000.M1P2.host:2,S#lease.pdf", 10, 1);
        assert!(matches!(
            known.classify(&attachment, "ha", Some(&folder(None))),
            Classified::Unchanged(DocId(4), _)
        ));
        // Its message now keeps its folder: the chunks must carry it.
        assert!(matches!(
            known.classify(&attachment, "ha", Some(&folder(Some("Mail")))),
            Classified::Reread(DocId(4))
        ));
        assert!(matches!(
            known.classify(&attachment, "ha", None),
            Classified::Reread(DocId(4))
        ));
    }

    #[test]
    fn touched_files_with_their_recorded_bytes_are_taken_out_of_those_to_read() {
        let dir = tempfile::tempdir().unwrap();
        let on_disk = |rel: &str, text: &str, kind: FileKind| {
            std::fs::write(dir.path().join(rel), text).unwrap();
            SourceFile {
                path: dir.path().join(rel),
                rel: PathBuf::from(rel),
                kind,
                size: text.len() as u64,
                mtime_ns: 9,
            }
        };
        let hash = |text: &str| blake3::hash(text.as_bytes()).to_hex().to_string();
        let text = "The tenant shall pay rent.";
        let known = Known::new(vec![
            (DocId(0), record("same.txt", 26, 1, &hash(text))),
            (DocId(1), record("edited.txt", 26, 1, &hash(text))),
            (DocId(2), record("mail.eml", 26, 1, &hash(text))),
            (DocId(5), record("inbox.mbox", 26, 1, &hash(text))),
            (DocId(3), record("reread.pdf", 26, 1, &hash(text))),
            (DocId(4), record("big.txt", 26, 1, &hash(text))),
            (DocId(6), record("held.mbox", 26, 1, &hash(text))),
            (
                DocId(7),
                record("held.mbox#0001.eml", 20, 1, &hash("message")),
            ),
        ])
        .with_rereads(|rec| {
            rec.rel == Path::new("reread.pdf") || rec.rel == Path::new("held.mbox#0001.eml")
        });
        let mut to_read = vec![
            on_disk("same.txt", text, FileKind::Text),
            on_disk("edited.txt", "The tenant shall pay RENT.", FileKind::Text),
            on_disk("mail.eml", text, FileKind::Eml),
            on_disk("inbox.mbox", text, FileKind::Mbox),
            on_disk("reread.pdf", text, FileKind::Pdf),
            on_disk("held.mbox", text, FileKind::Mbox),
            on_disk("new.txt", text, FileKind::Text),
        ];
        let touched = known.take_touched(&mut to_read, 1 << 20);
        // The files whose bytes are as recorded, an e-mail and a mailbox among them (their
        // attachments and messages are in their bytes), with their new time; not a mailbox
        // one of whose messages this run reads again.
        let ids: Vec<DocId> = touched.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [DocId(0), DocId(2), DocId(5)]);
        assert_eq!((touched[0].1.mtime_ns, touched[0].1.size), (9, 26));
        let left: Vec<&Path> = to_read.iter().map(|f| f.rel.as_path()).collect();
        assert_eq!(
            left,
            ["edited.txt", "reread.pdf", "held.mbox", "new.txt"].map(Path::new)
        );
        // One over the run's size limit is left for the run to report.
        let mut to_read = vec![on_disk("big.txt", text, FileKind::Text)];
        assert!(known.take_touched(&mut to_read, 10).is_empty());
        assert_eq!(to_read.len(), 1);
    }
}
