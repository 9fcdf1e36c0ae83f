//! PDF and DOCX end to end: fixtures built in code, indexed by the real CLI, hits checked for
//! their page, paragraph and breadcrumb; hostile files skipped with reasons; extractors fed
//! random bytes.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::prelude::*;
use predicates::str::contains;
use proptest::prelude::*;
use serde_json::Value;

use crate::common::fixtures::{
    self, PdfOptions, committed, core_xml, document_xml, docx, footnotes_xml, header_xml, lines, p,
    pdf, pdf_with, styled, table, with_footnote,
};
use crate::common::{
    catalog_documents, index_folder, lexsearch, real_model, success_json, tiny_model_and_folder,
};
use lexsearch::ingest::extract::{ExtractError, extract_isolated, extractor_for};
use lexsearch::ingest::isolate::quiet_isolated_panics;
use lexsearch::ingest::walk::FileKind;

fn index(model: &Path, docs: &Path) -> std::process::Output {
    lexsearch()
        .args(["index", "--quiet", "--json", "--model"])
        .arg(model)
        .arg(docs)
        .output()
        .unwrap()
}

/// `index` that must exit with `code` (0: all indexed; 2: indexed, with files skipped); its
/// JSON report.
fn indexed(model: &Path, docs: &Path, code: i32) -> Value {
    let out = index(model, docs);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The path and reason of the one file an index report lists as skipped.
fn the_one_skipped(report: &Value) -> (&str, &str) {
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report}");
    let field = |name: &str| skipped[0][name].as_str().unwrap();
    (field("path"), field("reason"))
}

/// The hits for `query`, each file's chunk its own hit: the tests hold one text in several
/// formats, and each format's extraction is what they check.
fn search(docs: &Path, query: &str, extra: &[&str]) -> Vec<Value> {
    let out = lexsearch()
        .current_dir(docs)
        .args(["search", query, "--json", "--each-copy", "-k", "5"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["hits"].as_array().unwrap().clone()
}

/// The text of the document at `place` (a file or `file#inner`) as the index read it, as
/// `show --json` prints it.
fn shown(docs: &Path, place: &str) -> String {
    success_json(
        lexsearch()
            .current_dir(docs)
            .args(["show", "--json", place]),
    )["text"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The first keyword hit whose text contains `needle`.
fn hit_with(docs: &Path, query: &str, needle: &str) -> Value {
    let hits = search(docs, query, &["--mode", "keyword"]);
    hits.into_iter()
        .find(|h| h["text"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no hit for {query:?} containing {needle:?}"))
}

fn crumbs(hit: &Value) -> Vec<&str> {
    hit["breadcrumb"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

/// A five-page lease: running header and footer on every page, a word hyphenated across a
/// line end, and a clause that runs from page 4 onto page 5.
pub(crate) fn lease_pdf() -> Vec<u8> {
    let header = "HALVORSEN STREET LEASE";
    let pages: Vec<Vec<&str>> = vec![
        vec![
            "COMMERCIAL LEASE AGREEMENT",
            "",
            "This lease is made between Halvorsen Street Holdings LLC and Bright Fennel",
            "Bakery Co. for retail space in Duluth.",
            "",
            "ARTICLE 1 PREMISES",
            "",
            "Section 1.1 Premises",
            "",
            "Landlord leases to Tenant the retail space known as Suite 104 together with",
            "the non-exclusive right to use the common areas of the building.",
        ],
        vec![
            "ARTICLE 2 RENT",
            "",
            "Section 2.1 Base Rent",
            "",
            "Tenant shall pay base rent of four thousand eight hundred dollars per month",
            "in advance on the first day of each calendar month.",
        ],
        vec![
            "ARTICLE 4 SECURITY DEPOSIT",
            "",
            "Section 4.2 Security Deposit",
            "",
            "On signing, Tenant shall deliver nine thousand six hundred dollars to the",
            "escrow agent, to be returned within thirty days after the expiration or termi-",
            "nation of this Lease, less any amounts applied to unpaid rent.",
        ],
        vec![
            "ARTICLE 5 MISCELLANEOUS",
            "",
            "Section 5.1 Notices",
            "",
            "All notices under this Lease shall be in writing and delivered by courier to",
            "the addresses first written above, with a copy by electronic mail to the",
            "party's counsel of record.",
        ],
        vec![
            "A notice is effective upon receipt or upon refusal of delivery by the",
            "addressee, whichever occurs first.",
        ],
    ];
    let pages: Vec<Vec<String>> = pages
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let mut all = vec![header.to_string(), String::new()];
            all.extend(lines(&body));
            all.extend([String::new(), format!("Page {} of 5", i + 1)]);
            all
        })
        .collect();
    pdf_with(
        &pages,
        &PdfOptions {
            title: Some("Halvorsen Street Lease"),
            ..PdfOptions::default()
        },
    )
}

/// The body paragraphs of the services agreement, in order (1-based numbers in the index).
const MSA_PARAGRAPHS: [&str; 10] = [
    "# Master Services Agreement",
    "# Article 3 Fees",
    "## 3.1 Invoices",
    "Supplier shall invoice the Customer monthly in arrears for Services performed[1] under each Statement of Work.",
    "## 3.2 Milestone Payments",
    "The following milestone fees are payable on written acceptance by the Customer:",
    "Milestone | Fee",
    "Design acceptance | $12,500",
    "# Article 9 General",
    "Neither party may assign this Agreement without the prior written consent of the other party.",
];

fn msa_docx() -> Vec<u8> {
    let body = [
        styled("Title", "Master Services Agreement"),
        styled("Heading1", "Article 3 Fees"),
        styled("Heading2", "3.1 Invoices"),
        with_footnote(
            "Supplier shall invoice the Customer monthly in arrears for Services performed",
            1,
            " under each Statement of Work.",
        ),
        styled("Heading2", "3.2 Milestone Payments"),
        p("The following milestone fees are payable on written acceptance by the Customer:"),
        table(&[&["Milestone", "Fee"], &["Design acceptance", "$12,500"]]),
        styled("Heading1", "Article 9 General"),
        p(MSA_PARAGRAPHS[9]),
    ]
    .concat();
    docx(
        &document_xml(&body),
        &[
            (
                "word/footnotes.xml",
                footnotes_xml(&[(
                    1,
                    "Invoices are payable in euros to the account in Schedule B.",
                )]),
            ),
            (
                "word/header1.xml",
                header_xml("hdr", "MSA \u{2014} execution copy"),
            ),
            (
                "docProps/core.xml",
                core_xml("Master Services Agreement (Draft 3)"),
            ),
        ],
    )
}

#[test]
fn a_pdf_in_two_columns_drawn_line_by_line_is_searched_column_by_column() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    let left = [
        "The Tenant shall pay the rent on the",
        "first day of every month, without any",
        "demand or deduction whatsoever, to the",
        "Landlord at the office named above.",
    ];
    let right = [
        "The Landlord shall repair the roof and",
        "the outside walls within thirty days",
        "after the Tenant gives it written notice",
        "of a defect, at the Landlord's own cost.",
    ];
    let bytes = fixtures::two_column_pdf("ARTICLE 3 RENT AND REPAIRS", &left, &right, true);
    fs::write(docs.join("lease.pdf"), bytes).unwrap();
    indexed(&model, &docs, 0);
    // Each phrase runs from one line of a column onto the next: drawn line by line, the
    // other column's line came between them.
    for phrase in [
        "\"without any demand or deduction\"",
        "\"within thirty days after the Tenant\"",
    ] {
        let hits = search(&docs, phrase, &["--mode", "keyword"]);
        assert_eq!(hits.len(), 1, "{phrase}: {hits:?}");
        let text = hits[0]["text"].as_str().unwrap();
        assert!(text.contains(&left.join("\n")), "{text}");
        assert!(text.contains(&right.join("\n")), "{text}");
    }
}

#[test]
fn pdf_and_docx_hits_carry_exact_pages_paragraphs_and_breadcrumbs() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("lease.pdf"), lease_pdf()).unwrap();
    fs::write(docs.join("msa.docx"), msa_docx()).unwrap();
    let report = indexed(&model, &docs, 0);
    assert_eq!(report["files_indexed"], 2);

    // PDF: the deposit clause is on page 3, under its article, with the running header gone
    // and the hyphenated word joined.
    let hit = hit_with(&docs, "escrow agent termination", "escrow agent");
    assert_eq!(hit["file"], "lease.pdf");
    assert_eq!(hit["title"], "Halvorsen Street Lease");
    assert_eq!(hit["page"], 3);
    assert!(hit["page_end"].is_null());
    assert!(hit["paragraph"].is_null());
    assert_eq!(
        crumbs(&hit),
        ["ARTICLE 4 SECURITY DEPOSIT", "Section 4.2 Security Deposit"]
    );
    let text = hit["text"].as_str().unwrap();
    assert!(text.starts_with("ARTICLE 4 SECURITY DEPOSIT"), "{text}");
    assert!(
        text.contains("expiration or termination\nof this Lease"),
        "{text}"
    );
    assert!(
        !text.contains("HALVORSEN STREET LEASE") && !text.contains("Page 3"),
        "{text}"
    );
    // Semantic search lands on the same page.
    let hits = search(&docs, "when does the landlord give back the deposit", &[]);
    let top = hits.iter().find(|h| h["file"] == "lease.pdf").unwrap();
    assert_eq!(top["page"], 3);
    // A clause that runs over a page break names both pages.
    let hit = hit_with(&docs, "notice effective upon receipt", "addressee");
    assert_eq!(hit["page"], 4);
    assert_eq!(hit["page_end"], 5);
    assert_eq!(
        crumbs(&hit),
        ["ARTICLE 5 MISCELLANEOUS", "Section 5.1 Notices"]
    );
    // Its pinpoint has a page of its own: the sentence that answers is on page 5 ...
    let pinpoint = &hit["pinpoint"];
    assert!(
        pinpoint["text"]
            .as_str()
            .unwrap()
            .contains("effective upon receipt"),
        "{hit}"
    );
    assert_eq!(pinpoint["page"], 5, "{hit}");
    // ... and the one about couriers on page 4; the CLI names the pinpoint's page first.
    let hit = hit_with(&docs, "notices delivered by courier in writing", "courier");
    assert_eq!(
        (hit["page"].as_u64(), hit["page_end"].as_u64()),
        (Some(4), Some(5))
    );
    assert_eq!(hit["pinpoint"]["page"], 4, "{hit}");
    lexsearch()
        .current_dir(&docs)
        .args([
            "search",
            "--mode",
            "keyword",
            "-k",
            "1",
            "notice effective upon receipt",
        ])
        .assert()
        .success()
        .stdout(contains("lease.pdf  p. 5 (pp. 4–5)"));
    // The footer and header were dropped from every page.
    assert!(
        search(&docs, "halvorsen street lease", &["--mode", "keyword"])
            .iter()
            .all(|h| !h["text"]
                .as_str()
                .unwrap()
                .contains("HALVORSEN STREET LEASE"))
    );

    // DOCX: paragraphs are counted in body order, headings make the breadcrumb; the number
    // is that of the chunk's first paragraph.
    let para_of = |hit: &Value| -> u64 {
        let text = hit["text"].as_str().unwrap();
        MSA_PARAGRAPHS
            .iter()
            .position(|p| text.starts_with(p))
            .map(|i| i as u64 + 1)
            .unwrap_or_else(|| panic!("hit starts with no paragraph: {text}"))
    };
    let hit = hit_with(&docs, "invoice monthly in arrears", "in arrears");
    assert_eq!(hit["file"], "msa.docx");
    assert_eq!(hit["title"], "Master Services Agreement (Draft 3)");
    assert!(hit["page"].is_null());
    assert_eq!(crumbs(&hit), ["Article 3 Fees", "3.1 Invoices"]);
    assert_eq!(hit["paragraph"], para_of(&hit));
    // The chunker carries the bare title and article headings into this first clause.
    assert_eq!(hit["paragraph"], 1);

    let hit = hit_with(
        &docs,
        "design acceptance milestone fee",
        "Design acceptance | $12,500",
    );
    assert_eq!(crumbs(&hit), ["Article 3 Fees", "3.2 Milestone Payments"]);
    assert_eq!(hit["paragraph"], para_of(&hit));
    assert_eq!(hit["paragraph"], 5);

    let hit = hit_with(&docs, "assign agreement prior written consent", "assign");
    assert_eq!(crumbs(&hit), ["Article 9 General"]);
    assert_eq!(hit["paragraph"], 9);

    // The footnote is searchable, in its own section, numbered after the body.
    let hit = hit_with(
        &docs,
        "payable in euros",
        "[1] Invoices are payable in euros",
    );
    assert_eq!(crumbs(&hit), ["Footnotes"]);
    assert_eq!(hit["paragraph"], 11);
    let hit = hit_with(&docs, "execution copy", "execution copy");
    assert_eq!(crumbs(&hit), ["Headers and footers"]);
    assert_eq!(hit["paragraph"], 12);
}

/// Whether Tesseract and pdftoppm are installed; under `LEXSEARCH_REQUIRE_OCR=1` (set by
/// scripts/test when it could install them) they must be.
fn ocr_installed() -> bool {
    let found =
        lexsearch::ingest::ocr::OcrEngine::detect(lexsearch::ingest::ocr::DEFAULT_LANG).is_some();
    if !found {
        assert!(
            std::env::var("LEXSEARCH_REQUIRE_OCR").as_deref() != Ok("1"),
            "LEXSEARCH_REQUIRE_OCR=1 but tesseract or pdftoppm is not installed"
        );
        eprintln!("SKIPPED: tesseract not installed");
    }
    found
}

#[test]
fn email_hits_name_the_mail_and_the_attachment_they_come_from() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    let headers = [
        ("From", "Ann Lee <ann@firm.example>"),
        ("To", "bob@client.example"),
        ("Subject", "Executed escrow agreement"),
        ("Date", "Tue, 3 Mar 2020 10:15:00 +0000"),
    ];
    let mail = fixtures::eml(
        &headers,
        "text/plain",
        "Bob, the escrow agreement is signed; the wire instructions follow separately.",
        &[(
            "escrow.pdf",
            "application/pdf",
            pdf(&[
                lines(&[
                    "ESCROW AGREEMENT",
                    "",
                    "Section 1. Parties",
                    "",
                    "This agreement is made between the buyer, the seller and the agent.",
                ]),
                lines(&[
                    "Section 2. Release of Funds",
                    "",
                    "The escrow agent releases the funds upon closing.",
                ]),
            ]),
        )],
    );
    fs::write(docs.join("thread.eml"), mail).unwrap();
    fs::write(docs.join("broken.eml"), [0u8, 1, 2, 3]).unwrap();
    let outlook = fixtures::msg(&fixtures::MsgFixture {
        subject: "Deposition schedule",
        sender_name: "Carl Poe",
        sender_email: "carl@court.example",
        to: "Ann Lee",
        body: "The deposition of the custodian is moved to Friday.",
        filetime: 132_277_041_000_000_000,
        attachments: vec![(
            "order.docx",
            docx(
                &document_xml(
                    &[
                        styled("Heading1", "Scheduling Order"),
                        p("Discovery closes on June 30."),
                    ]
                    .concat(),
                ),
                &[],
            ),
        )],
        embedded: vec![(
            "Re: Deposition schedule",
            fixtures::msg(&fixtures::MsgFixture {
                subject: "Re: Deposition schedule",
                sender_name: "Dana Fox",
                sender_email: "dana@client.example",
                to: "Carl Poe",
                body: "The records custodian confirms attendance.",
                filetime: 132_277_041_000_000_000,
                ..fixtures::MsgFixture::default()
            }),
        )],
        ..fixtures::MsgFixture::default()
    });
    fs::write(docs.join("court.msg"), outlook).unwrap();
    fs::write(docs.join("notes.txt"), "Call the escrow agent on Monday.").unwrap();
    // Exit status 2: indexed, with files skipped.
    let report = indexed(&model, &docs, 2);
    assert_eq!(report["files_indexed"], 6, "{report}");
    let (_, reason) = the_one_skipped(&report);
    assert!(reason.contains("malformed e-mail"), "{reason}");

    let hit = hit_with(&docs, "wire instructions", "wire instructions");
    assert_eq!(hit["file"], "thread.eml");
    assert_eq!(
        hit["title"],
        "Executed escrow agreement (from Ann Lee <ann@firm.example>, 2020-03-03T10:15:00Z)"
    );
    assert_eq!(crumbs(&hit), ["Executed escrow agreement"]);
    // The headers as their own fields, for scripts.
    assert_eq!(hit["mail"]["from"], "Ann Lee <ann@firm.example>", "{hit}");
    assert_eq!(hit["mail"]["date"], "2020-03-03T10:15:00Z");
    assert_eq!(hit["mail"]["to"], "bob@client.example");
    assert_eq!(hit["mail"]["subject"], "Executed escrow agreement");
    let hit = hit_with(
        &docs,
        "releases the funds upon closing",
        "releases the funds",
    );
    assert_eq!(hit["file"], "thread.eml#escrow.pdf");
    assert_eq!(hit["page"], 2, "{hit}");
    // An attachment carries the headers of the message it came with.
    assert_eq!(hit["mail"]["from"], "Ann Lee <ann@firm.example>", "{hit}");
    let hit = hit_with(&docs, "escrow agent Monday", "Monday");
    assert_eq!(hit["file"], "notes.txt");
    assert!(hit["mail"].is_null(), "{hit}");

    // Outlook: the same headers and attachments.
    let hit = hit_with(&docs, "deposition custodian Friday", "custodian");
    assert_eq!(hit["file"], "court.msg");
    assert_eq!(
        hit["title"],
        "Deposition schedule (from Carl Poe <carl@court.example>, 2020-03-03T10:15:00Z)"
    );
    assert_eq!(hit["mail"]["from"], "Carl Poe <carl@court.example>");
    assert_eq!(hit["mail"]["date"], "2020-03-03T10:15:00Z");
    let hit = hit_with(&docs, "discovery closes June", "Discovery closes");
    assert_eq!(hit["file"], "court.msg#order.docx");
    assert_eq!(crumbs(&hit), ["Scheduling Order"]);
    // An attached Outlook item is a message of its own, with its own headers.
    let hit = hit_with(
        &docs,
        "custodian confirms attendance",
        "confirms attendance",
    );
    assert_eq!(hit["file"], "court.msg#Re: Deposition schedule.msg");
    assert_eq!(
        hit["mail"]["from"], "Dana Fox <dana@client.example>",
        "{hit}"
    );

    // Unchanged: the attachment stays; the e-mail gone: so is its attachment.
    let again: Value = serde_json::from_slice(&index(&model, &docs).stdout).unwrap();
    assert_eq!(
        (again["files_indexed"].as_u64(), again["removed"].as_u64()),
        (Some(6), Some(0)),
        "{again}"
    );
    // Sent again without its attachment: the attachment goes, the e-mail changes.
    let resent = fixtures::eml(&headers, "text/plain", "Bob, the wire instructions.", &[]);
    fs::write(docs.join("thread.eml"), resent).unwrap();
    let changed: Value = serde_json::from_slice(&index(&model, &docs).stdout).unwrap();
    assert_eq!(
        (changed["changed"].as_u64(), changed["removed"].as_u64()),
        (Some(1), Some(1)),
        "{changed}"
    );
    assert_eq!(changed["files_indexed"], 5, "{changed}");
    fs::remove_file(docs.join("thread.eml")).unwrap();
    let gone: Value = serde_json::from_slice(&index(&model, &docs).stdout).unwrap();
    assert_eq!(gone["removed"], 1, "{gone}");
}

#[test]
fn sent_from_and_to_keep_the_e_mails_they_name_and_their_attachments() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    let mail = |date: &str, subject: &str, body: &str, attachments: &[fixtures::Attachment<'_>]| {
        // The refund comes from the court's clerk, copied to the client's counsel.
        let refund = subject == "Escrow refund";
        let mut headers = vec![
            (
                "From",
                if refund {
                    "Carl Poe <carl@court.example>"
                } else {
                    "Ann Lee <ann@firm.example>"
                },
            ),
            ("To", "bob@client.example"),
            ("Subject", subject),
            ("Date", date),
        ];
        if refund {
            headers.push(("Cc", "Dana Fox <dana@client.example>"));
        }
        fixtures::eml(&headers, "text/plain", body, attachments)
    };
    let schedule = b"Escrow release schedule: the escrow funds are released at closing.".to_vec();
    let files = [
        (
            "wire.eml",
            mail(
                "Thu, 5 Mar 2020 18:00:00 -0800",
                "Escrow wire",
                "The escrow funds are wired today.",
                &[("schedule.txt", "text/plain", schedule)],
            ),
        ),
        // The last evening of March where it was sent; April 1st in UTC.
        (
            "refund.eml",
            mail(
                "Tue, 31 Mar 2020 23:30:00 -0800",
                "Escrow refund",
                "The escrow funds are returned to the buyer.",
                &[],
            ),
        ),
        (
            "closed.eml",
            mail(
                "Thu, 2 Apr 2020 09:00:00 +0000",
                "Escrow closed",
                "The escrow account holding the funds is closed.",
                &[],
            ),
        ),
    ];
    for (name, bytes) in files {
        fs::write(docs.join(name), bytes).unwrap();
    }
    fs::write(
        docs.join("lease.txt"),
        "The escrow funds are held by the landlord.",
    )
    .unwrap();
    let out = index(&model, &docs);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let found = |query: &str, mode: &str| -> Vec<String> {
        let mut files: Vec<String> = search(&docs, query, &["--mode", mode])
            .iter()
            .map(|h| h["file"].as_str().unwrap().to_string())
            .collect();
        files.sort();
        files.dedup();
        files
    };
    // Without `sent:` the lease and April's e-mail are found too.
    let all = found("escrow funds", "keyword");
    assert!(all.contains(&"lease.txt".to_string()) && all.contains(&"closed.eml".to_string()));
    for mode in ["keyword", "semantic", "hybrid"] {
        assert_eq!(
            found("escrow funds sent:2020-03", mode),
            ["refund.eml", "wire.eml", "wire.eml#schedule.txt"],
            "{mode}"
        );
        assert_eq!(
            found("escrow funds sent:>=2020-04", mode),
            ["closed.eml"],
            "{mode}"
        );
    }
    assert_eq!(
        found(
            "escrow funds sent:2020-03-05..2020-04-02 -refund",
            "keyword"
        ),
        ["closed.eml", "wire.eml", "wire.eml#schedule.txt"]
    );
    // `-sent:` leaves those e-mails out and keeps the rest, documents that are no e-mail
    // included.
    for mode in ["keyword", "hybrid"] {
        assert_eq!(
            found("escrow funds -sent:2020-03", mode),
            ["closed.eml", "lease.txt"],
            "{mode}"
        );
    }
    // Senders and recipients: an address, a name, a domain; Cc counts; they combine with
    // `sent:`.
    assert_eq!(
        found("escrow funds from:carl@court.example", "hybrid"),
        ["refund.eml"]
    );
    assert_eq!(
        found("escrow funds from:\"Ann Lee\" sent:2020-03", "keyword"),
        ["wire.eml", "wire.eml#schedule.txt"]
    );
    assert_eq!(found("escrow funds to:dana", "semantic"), ["refund.eml"]);
    assert_eq!(found("escrow funds to:client.example", "keyword").len(), 4);
    let searched = |query: &str| {
        lexsearch()
            .current_dir(&docs)
            .args(["search", query])
            .assert()
    };
    searched("escrow from:carl to:bob sent:2020-04")
        .code(1)
        .stdout(contains(
            "no hits among e-mails from:carl and to:bob and sent:2020-04 (and their attachments)",
        ));
    // The JSON says what was asked; a window with no e-mail says so.
    let json = lexsearch()
        .current_dir(&docs)
        .args(["search", "--json", "escrow sent:2020-03-05"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["sent"], serde_json::json!(["2020-03-05"]), "{v}");
    searched("escrow sent:2019").code(1).stdout(contains(
        "no hits among e-mails sent:2019 (and their attachments)",
    ));
    searched("escrow sent:3/5/2020")
        .code(2)
        .stderr(contains("sent:3/5/2020").and(contains("sent:2020-03-05")));
}

#[test]
fn odt_and_rtf_hits_carry_heading_breadcrumbs_and_paragraph_numbers() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    let body = r#"<text:h text:outline-level="1">Settlement Agreement</text:h>
<text:p>The parties settle the dispute on the terms below.</text:p>
<text:h text:outline-level="2">3. Confidentiality</text:h>
<text:p>Neither party shall disclose the settlement amount.</text:p>"#;
    fs::write(
        docs.join("settlement.odt"),
        fixtures::odt(body, Some("Settlement (final)")),
    )
    .unwrap();
    indexed(&model, &docs, 0);
    let hit = hit_with(&docs, "disclose settlement amount", "Neither party");
    assert_eq!(hit["file"], "settlement.odt");
    assert_eq!(hit["title"], "Settlement (final)");
    assert_eq!(crumbs(&hit), ["Settlement Agreement", "3. Confidentiality"]);
    let rtf = r"{\rtf1\ansi{\stylesheet{\s1 heading 1;}}\pard\s1 Release\par\pard The releasor waives all claims arising before signing.\par}";
    fs::write(docs.join("release.rtf"), rtf).unwrap();
    indexed(&model, &docs, 0);
    let rhit = hit_with(&docs, "releasor waives claims", "releasor waives");
    assert_eq!(rhit["file"], "release.rtf");
    assert_eq!(crumbs(&rhit), ["Release"]);
    // A short document is one chunk: its place is its first paragraph, the heading.
    assert_eq!(hit["paragraph"], 1, "{hit}");
    assert!(
        hit["text"]
            .as_str()
            .unwrap()
            .starts_with("# Settlement Agreement\n\nThe parties")
    );
}

/// A Word 97–2003 fixture of tests/fixtures/doc (made by scripts/make-doc-fixtures).
/// A committed fixture of `tests/fixtures/sheet` (LibreOffice's exports of one workbook).
fn sheet_fixture(name: &str) -> Vec<u8> {
    committed("sheet", name)
}

#[test]
fn spreadsheets_are_searched_by_row_with_their_sheet_as_breadcrumb() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("log.xlsx"), sheet_fixture("privilege-log.xlsx")).unwrap();
    fs::write(
        docs.join("log 2019.xls"),
        sheet_fixture("privilege-log.xls"),
    )
    .unwrap();
    fs::write(
        docs.join("log draft.ods"),
        sheet_fixture("privilege-log.ods"),
    )
    .unwrap();
    // The same log exported as CSV by a European Excel (semicolons, Windows-1252).
    let csv = "Doc ID;Date;Author;Description\r\n\
               PRIV-0004;2021-06-01;B. Poe;\"Board minutes, r\u{e9}sum\u{e9} of the fire claim\"\r\n";
    let cp1252: Vec<u8> = csv.chars().map(|c| c as u32 as u8).collect();
    fs::write(docs.join("log export.csv"), cp1252).unwrap();
    let report = indexed(&model, &docs, 0);
    assert_eq!(report["files_indexed"], 4, "{report}");
    let row = hit_with(&docs, "board minutes fire claim", "PRIV-0004");
    assert_eq!(row["file"], "log export.csv");
    assert_eq!(
        row["pinpoint"]["text"],
        "PRIV-0004 | 2021-06-01 | B. Poe | Board minutes, r\u{e9}sum\u{e9} of the fire claim",
        "{row}"
    );
    assert_eq!(row["title"], "log export.csv", "{row}");

    // A row is found by its words, with the sheet as its breadcrumb and the workbook's title.
    let hits = search(&docs, "warehouse fire chronology", &["--mode", "keyword"]);
    let files: Vec<&str> = hits.iter().map(|h| h["file"].as_str().unwrap()).collect();
    for f in ["log.xlsx", "log 2019.xls", "log draft.ods"] {
        assert!(files.contains(&f), "{files:?}");
    }
    let hit = hits.iter().find(|h| h["file"] == "log.xlsx").unwrap();
    assert_eq!(hit["title"], "Privilege Log, Acme v. Widget", "{hit}");
    // The breadcrumb names the sheet and its columns, which the row itself does not.
    assert_eq!(
        crumbs(hit),
        ["Privilege Log: Doc ID | Date | Author | Recipients | Privilege | Description"],
        "{hit}"
    );
    assert_eq!(
        hit["pinpoint"]["text"],
        "PRIV-0002 | 2021-04-12 | C. Diaz | A. Lee (outside counsel) | Work product | Draft \
         chronology of the warehouse fire prepared for litigation",
        "{hit}"
    );
    // Dates and amounts are written as the sheet shows them, so they can be searched.
    let damages = hit_with(&docs, "cleanup costs 1250.5", "Cleanup costs | 1250.5");
    assert_eq!(
        crumbs(&damages),
        ["Damages: Item | Amount | Hours"],
        "{damages}"
    );
    assert!(!search(&docs, "2021-05-20", &["--mode", "keyword"]).is_empty());
    // A hidden sheet is searched too, and says it is hidden.
    let notes = hit_with(&docs, "clawback request", "clawback");
    assert_eq!(crumbs(&notes), ["Reviewer notes (hidden)"], "{notes}");
}

#[test]
fn spreadsheet_amounts_are_found_as_their_number_formats_show_them() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    for ext in ["xlsx", "xls", "ods"] {
        fs::write(
            docs.join(format!("fees.{ext}")),
            sheet_fixture(&format!("fee-schedule.{ext}")),
        )
        .unwrap();
    }
    let report = indexed(&model, &docs, 0);
    assert_eq!(report["files_indexed"], 3, "{report}");
    // The catalog records that this reader read them: the next run does not read them again.
    let again = indexed(&model, &docs, 0);
    assert_eq!(
        (&again["unchanged"], &again["reread_by_newer_reader"]),
        (&3.into(), &0.into()),
        "{again}"
    );
    // The retainer is stored as 1250.5 with a currency format: the amount as the sheet
    // shows it finds it, in each format, and its row is the pinpoint.
    let hits = search(&docs, "$1,250.50", &["--mode", "keyword"]);
    for f in ["fees.xlsx", "fees.xls", "fees.ods"] {
        let hit = hits
            .iter()
            .find(|h| h["file"] == f)
            .unwrap_or_else(|| panic!("{f}: {hits:?}"));
        assert_eq!(hit["pinpoint"]["text"], "Retainer | $1,250.50", "{hit}");
    }
    // A negative amount in parentheses, a percentage.
    let refund = hit_with(&docs, "refund of unearned fees", "Refund");
    assert_eq!(
        refund["pinpoint"]["text"], "Refund of unearned fees | ($1,200.00)",
        "{refund}"
    );
    let rate = hit_with(&docs, "success fee 5.25%", "Success");
    assert_eq!(rate["pinpoint"]["text"], "Success fee | 5.25%", "{rate}");
}

/// A committed fixture of `tests/fixtures/slides` (python-pptx's deck, and LibreOffice's `.odp`
/// and `.ppt` of it).
fn slides_fixture(name: &str) -> Vec<u8> {
    committed("slides", name)
}

#[test]
fn presentations_are_searched_by_slide_with_its_title_as_breadcrumb_and_its_notes() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(
        docs.join("board deck.pptx"),
        slides_fixture("board-deck.pptx"),
    )
    .unwrap();
    fs::write(
        docs.join("board deck.odp"),
        slides_fixture("board-deck.odp"),
    )
    .unwrap();
    fs::write(
        docs.join("board deck 2003.ppt"),
        slides_fixture("board-deck.ppt"),
    )
    .unwrap();
    let report = indexed(&model, &docs, 0);
    assert_eq!(report["files_indexed"], 3, "{report}");

    // A slide's text is found with the slide as its page and its title as breadcrumb.
    let hits = search(
        &docs,
        "termination fee superior proposal",
        &["--mode", "keyword"],
    );
    let files: Vec<&str> = hits.iter().map(|h| h["file"].as_str().unwrap()).collect();
    for f in ["board deck.pptx", "board deck.odp", "board deck 2003.ppt"] {
        assert!(files.contains(&f), "{files:?}");
    }
    let hit = hits
        .iter()
        .find(|h| h["file"] == "board deck.pptx")
        .unwrap();
    assert_eq!(hit["page"], 2, "{hit}");
    assert_eq!(crumbs(hit), ["Slide 2: Key Terms of the Merger"], "{hit}");
    assert_eq!(
        hit["title"], "Project Falcon: Board Briefing on the Merger Agreement",
        "{hit}"
    );
    // Speaker notes belong to their slide.
    let notes = hit_with(&docs, "fairness opinion bankers", "fairness opinion");
    assert_eq!(notes["page"], 2, "{notes}");
    // A hidden slide is searched too, and says it is hidden.
    let hidden = hit_with(&docs, "appraisal dissenting holders", "Section 262");
    assert_eq!(hidden["page"], 3, "{hidden}");
    assert_eq!(
        crumbs(&hidden),
        ["Slide 3: Appraisal Rights Exposure (hidden)"],
        "{hidden}"
    );
    // A table on a slide is read by row, in all three formats.
    let rows = search(&docs, "HSR clearance antitrust", &["--mode", "keyword"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        assert!(
            row["text"]
                .as_str()
                .unwrap()
                .contains("HSR clearance | Antitrust counsel | Filed"),
            "{row}"
        );
    }
}

/// A committed fixture of `tests/fixtures/doc` (LibreOffice's exports of one document).
fn doc_fixture(name: &str) -> Vec<u8> {
    committed("doc", name)
}

#[test]
fn word_97_documents_are_searched_with_their_headings_list_numbers_and_tables() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("lease.doc"), doc_fixture("lease.doc")).unwrap();
    fs::write(docs.join("amendment.doc"), doc_fixture("redline.doc")).unwrap();
    // An RTF file saved under a .doc name, as older systems do.
    let rtf = r"{\rtf1\ansi{\stylesheet{\s1 heading 1;}}\pard\s1 Release\par\pard The releasor waives all claims arising before signing.\par}";
    fs::write(docs.join("release.doc"), rtf).unwrap();
    let report = indexed(&model, &docs, 0);
    assert_eq!(report["files_indexed"], 3, "{report}");

    let hit = hit_with(
        &docs,
        "waives the increase in writing",
        "waives the increase",
    );
    assert_eq!(hit["file"], "lease.doc");
    assert_eq!(hit["title"], "Commercial Lease (Harbor Street)");
    // List numbers are written, and the chunker builds breadcrumbs from them.
    assert_eq!(
        crumbs(&hit),
        [
            "Article 1 Rent",
            "1. Base rent is fixed for the first lease year.",
            "1.1 Rent rises by three percent each later year."
        ]
    );
    assert_eq!(hit["paragraph"], 4, "{hit}");
    assert_eq!(
        hit["pinpoint"]["text"],
        "(b) the Landlord waives the increase in writing."
    );
    // The table's chunk also holds clause 2 ("2. Operating expenses are billed quarterly.",
    // too short to stand alone) before the Late Charge heading: it is under what both share.
    let table = hit_with(&docs, "monthly rent due 2028", "Year | Monthly rent");
    assert_eq!(crumbs(&table), ["Article 1 Rent"]);
    assert!(
        table["text"]
            .as_str()
            .unwrap()
            .starts_with("2. Operating expenses are billed quarterly.\n\n## Late Charge"),
        "{table}"
    );
    let text = table["text"].as_str().unwrap();
    assert!(
        text.contains("Year | Monthly rent | Due\n2027 | $4,500 | 1st\n2028 |  | 1st"),
        "{text}"
    );

    // What a tracked change deleted is not found; what it inserted is.
    let amended = search(
        &docs,
        "twenty-four months Effective Date",
        &["--mode", "keyword"],
    );
    assert_eq!(amended[0]["file"], "amendment.doc", "{amended:?}");
    assert!(
        search(&docs, "twelve", &["--mode", "keyword"]).is_empty(),
        "the deleted words are searchable"
    );
    let rhit = hit_with(&docs, "releasor waives claims", "releasor waives");
    assert_eq!(rhit["file"], "release.doc");
    assert_eq!(crumbs(&rhit), ["Release"]);

    // A .doc attached to an Outlook message is a document of its own, with the message's
    // headers.
    let outlook = fixtures::msg(&fixtures::MsgFixture {
        subject: "Old amendment",
        sender_name: "Ann Lee",
        sender_email: "ann@firm.example",
        to: "Bob Poe",
        body: "The amendment as signed in 2026, attached.",
        filetime: 132_277_041_000_000_000,
        attachments: vec![("signed amendment.doc", doc_fixture("redline.doc"))],
        ..fixtures::MsgFixture::default()
    });
    fs::write(docs.join("forward.msg"), outlook).unwrap();
    indexed(&model, &docs, 0);
    let attached = search(
        &docs,
        "twenty-four months Effective Date",
        &["--mode", "keyword"],
    );
    let files: Vec<&str> = attached
        .iter()
        .map(|h| h["file"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"forward.msg#signed amendment.doc"),
        "{files:?}"
    );
    let hit = attached
        .iter()
        .find(|h| h["file"] == "forward.msg#signed amendment.doc")
        .unwrap();
    assert_eq!(hit["mail"]["subject"], "Old amendment", "{hit}");
}

/// Whether Tesseract has data for `lang`.
fn tesseract_has(lang: &str) -> bool {
    std::process::Command::new("tesseract")
        .arg("--list-langs")
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == lang)
        })
}

#[test]
fn wordperfect_documents_are_searched_with_their_notes_tables_and_titles() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("lease.wpd"), fixtures::wp::lease6()).unwrap();
    fs::write(docs.join("old lease.wp5"), fixtures::wp::lease5()).unwrap();
    // A WordPerfect brief saved under a .doc name, as old archives have them.
    let mut brief = fixtures::wp::text6("ARGUMENT");
    brief.push(fixtures::wp::HARD_EOL6);
    brief.extend(fixtures::wp::text6(
        "The trial court erred in admitting the deposition of the absent witness.",
    ));
    brief.push(fixtures::wp::HARD_EOL6);
    fs::write(docs.join("brief.doc"), fixtures::wp::document6(&brief, &[])).unwrap();
    let report = indexed(&model, &docs, 0);
    assert_eq!(report["files_indexed"], 3, "{report}");

    // Extended characters (section signs, quotes, the euro) are text, and a soft hyphen
    // does not split its word.
    let hits = search(&docs, "maintenance", &["--mode", "keyword"]);
    let files: Vec<&str> = hits.iter().map(|h| h["file"].as_str().unwrap()).collect();
    assert!(
        files.contains(&"lease.wpd") && files.contains(&"old lease.wp5"),
        "{files:?}"
    );
    let hit = hits.iter().find(|h| h["file"] == "lease.wpd").unwrap();
    assert_eq!(hit["title"], "Commercial Lease — Suite 400", "{hit}");
    assert!(
        hit["text"]
            .as_str()
            .unwrap()
            .contains("§ 2.1 The Tenant shall pay rent of €1,000"),
        "{hit}"
    );
    // Paragraphs are numbered, the chunker finds the structure in the text, and the
    // pinpoint is the paragraph that matched.
    assert_eq!(hit["paragraph"], 1, "{hit}");
    assert_eq!(crumbs(hit)[0], "ARTICLE 1 DEFINITIONS", "{hit}");
    assert!(
        hit["pinpoint"]["text"]
            .as_str()
            .unwrap()
            .starts_with("§ 2.1 The Tenant shall pay rent"),
        "{hit}"
    );
    // Footnote text is searchable and says where it came from.
    let note = hit_with(&docs, "floor plan Schedule A", "As shown on the plan");
    assert_eq!(crumbs(&note), ["Footnotes"], "{note}");
    // A table row is one line of cells.
    let row = hit_with(&docs, "deposit", "Deposit | €2,000");
    assert!(row["file"] == "lease.wpd" || row["file"] == "old lease.wp5");
    // Text an edit removed (kept by WordPerfect for undo) and comments are not found.
    assert!(search(&docs, "ninety", &["--mode", "keyword"]).is_empty());
    assert!(search(&docs, "client", &["--mode", "keyword"]).is_empty());
    let b = hit_with(&docs, "deposition absent witness", "trial court erred");
    assert_eq!(b["file"], "brief.doc");
}

/// The real model and an empty `docs` folder in a temporary one, when the model and the OCR
/// programs are installed (else the test is skipped, saying why).
fn ocr_test_folder() -> Option<(PathBuf, tempfile::TempDir, PathBuf)> {
    let model = real_model()?;
    if !ocr_installed() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    Some((model, dir, docs))
}

/// `lexsearch index --quiet --model MODEL DOCS EXTRA` with its OCR cache in `cache` (`None`:
/// the index's own), and `PATH` replaced by `path` when given (`Some("")`: no Tesseract to be
/// found).
fn index_ocr(
    model: &Path,
    docs: &Path,
    cache: Option<&Path>,
    extra: &[&str],
    path: Option<&str>,
) -> std::process::Output {
    let mut cmd = lexsearch();
    match cache {
        Some(cache) => cmd.env("LEXSEARCH_OCR_CACHE", cache),
        None => cmd.env_remove("LEXSEARCH_OCR_CACHE"),
    };
    cmd.args(["index", "--quiet", "--model"])
        .arg(model)
        .arg(docs)
        .args(extra);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.output().unwrap()
}

#[test]
fn scanned_pdf_pages_are_ocrd_with_their_page_numbers_or_counted_once() {
    let Some((model, _dir, docs)) = ocr_test_folder() else {
        return;
    };
    let scan = fixtures::scanned_pdf(&[
        lines(&[
            "NOTICE OF DEFAULT",
            "",
            "Section 1. Parties",
            "",
            "This notice is given by the lender to the borrower under the loan.",
        ]),
        lines(&[
            "Section 2. Missed Payment",
            "",
            "The borrower failed to pay the installment due in March.",
        ]),
    ])
    .unwrap();
    fs::write(docs.join("scan.pdf"), &scan).unwrap();
    fs::write(docs.join("scan2.pdf"), &scan).unwrap();
    fs::write(docs.join("notes.txt"), "Call the lender on Monday.").unwrap();
    // The index's own cache: the text of a client's scans goes when its index goes.
    let cache = docs.join(".lexsearch").join("ocr");
    let run = |extra: &[&str], path: Option<&str>| {
        let out = index_ocr(&model, &docs, None, extra, path);
        // 2: indexed, with files skipped (the scans, when not OCR'd).
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // No engine on the PATH: one line says how many pages and how to install it.
    let text = run(&[], Some(""));
    assert!(text.contains("4 PDF pages have no text layer and were not read: Tesseract is not installed; install Tesseract and poppler: `apt install tesseract-ocr poppler-utils`"), "{text}");
    assert_eq!(text.matches("apt install").count(), 1, "{text}");
    let off = run(&["--ocr", "never", "--rebuild"], None);
    assert!(
        off.contains("4 PDF pages have no text layer and were not read: OCR is off (--ocr never)"),
        "{off}"
    );
    // With Tesseract: both files are read, the same page images OCR'd once (the cache).
    let report: Value = serde_json::from_str(&run(&["--json", "--rebuild"], None)).unwrap();
    assert_eq!(report["ocr"]["pages_ocr"], 4, "{report}");
    assert_eq!(report["ocr"]["engine_found"], true);
    assert_eq!(report["files_indexed"], 3);
    let cached: usize = fs::read_dir(&cache)
        .unwrap()
        .map(|d| fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(cached, 2, "two distinct page images");
    let hit = hit_with(&docs, "borrower installment March", "borrower failed");
    assert_eq!(hit["page"], 2, "{hit}");
    assert!(hit["file"].as_str().unwrap().starts_with("scan"));
    // `show` (and the MCP server) read the scanned page as the index did: by OCR, from the
    // cache.
    let out = lexsearch()
        .current_dir(&docs)
        .env_remove("LEXSEARCH_OCR_CACHE")
        .args(["show", "scan.pdf#page=2"])
        .assert()
        .success();
    let page = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(page.contains("The borrower failed to pay"), "{page}");
}

#[test]
fn pages_left_unread_are_read_by_a_later_run_once_tesseract_is_there_without_rebuild() {
    let Some((model, dir, docs)) = ocr_test_folder() else {
        return;
    };
    // A signed lease: typed pages, then a scanned signature page.
    let lease = fixtures::partly_scanned_pdf(
        &[lines(&[
            "LEASE AGREEMENT",
            "",
            "Section 1. Premises",
            "",
            "The landlord leases the apartment on Main Street to the tenant.",
        ])],
        &[lines(&[
            "Section 9. Signatures",
            "",
            "Signed by the guarantor before a notary in Springfield.",
        ])],
    )
    .unwrap();
    fs::write(docs.join("lease.pdf"), &lease).unwrap();
    let cache = dir.path().join("ocr-cache");
    let run = |extra: &[&str], path: Option<&str>| -> Value {
        let out = index_ocr(
            &model,
            &docs,
            Some(&cache),
            &[extra, &["--json"]].concat(),
            path,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let signed = |docs: &Path| {
        search(docs, "guarantor notary Springfield", &["--mode", "keyword"])
            .into_iter()
            .find(|h| h["text"].as_str().unwrap().contains("guarantor"))
    };
    // No engine: the typed page is indexed, the scanned one left unread and counted.
    let first = run(&[], Some(""));
    assert_eq!(first["added"], 1, "{first}");
    assert_eq!(first["ocr"]["pages_needing_ocr"], 1, "{first}");
    assert!(signed(&docs).is_none());
    // Tesseract installed since: the unchanged file is read again, with no --rebuild.
    let second = run(&[], None);
    assert_eq!(second["ocr"]["documents_reread"], 1, "{second}");
    assert_eq!(second["ocr"]["pages_ocr"], 1, "{second}");
    assert_eq!(second["ocr"]["lang"], "eng", "{second}");
    assert_eq!(second["changed"], 0, "{second}");
    let hit = signed(&docs).expect("the scanned page is searchable now");
    assert_eq!(hit["page"], 2, "{hit}");
    // Nothing left to read: the next run does not touch it.
    let third = run(&[], None);
    assert_eq!(third["ocr"]["documents_reread"], 0, "{third}");
    assert_eq!(third["ocr"]["pages_ocr"], 0, "{third}");
    assert_eq!(third["unchanged"], 1, "{third}");
    // Another language: its scanned page is read again, and later runs keep the language.
    if tesseract_has("deu") {
        let german = run(&["--ocr-lang", "deu"], None);
        assert_eq!(german["ocr"]["documents_reread"], 1, "{german}");
        assert_eq!(german["ocr"]["lang"], "deu", "{german}");
        let kept = run(&[], None);
        assert_eq!(kept["ocr"]["lang"], "deu", "{kept}");
        assert_eq!(kept["ocr"]["documents_reread"], 0, "{kept}");
        let status = crate::common::status_json(&docs);
        assert_eq!(status["ocr_lang"], "deu", "{status}");
        assert!(
            signed(&docs).is_some(),
            "the page read in German is still searchable"
        );
    } else {
        eprintln!("SKIPPED (language switch): Tesseract has no German data (tesseract-ocr-deu)");
    }
    // A language Tesseract has no data for is refused before any work, naming the package.
    let out = lexsearch()
        .args(["index", "--quiet", "--ocr-lang", "eng+zzz", "--model"])
        .arg(&model)
        .arg(&docs)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Tesseract has no language data for zzz")
            && err.contains("apt install tesseract-ocr-zzz"),
        "{err}"
    );
    // A malformed list is refused by the argument parser.
    let out = lexsearch()
        .args(["index", "--ocr-lang", "eng;rm", "--model"])
        .arg(&model)
        .arg(&docs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a list of Tesseract languages"));
}

/// Whether this process runs as root (permissions do not stop root from reading).
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

#[test]
fn hostile_files_are_skipped_with_reasons_and_the_rest_is_searchable() {
    let (_dir, model, docs) = tiny_model_and_folder();
    let put = |name: &str, bytes: &[u8]| {
        let path = docs.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, bytes).unwrap();
        path
    };
    // Good files, each with a word of its own.
    put("good.txt", b"The tenant shall pay rent. Quokka clause.");
    put(
        "good.pdf",
        &pdf(&[
            lines(&["Wombat clause on page one."]),
            lines(&["Page two."]),
        ]),
    );
    put(
        "good.docx",
        &docx(&document_xml(&p("Numbat clause in Word.")), &[]),
    );
    put("a/b/c/d/e/deep.txt", b"Bilby clause five folders down.");
    put("with space.txt", b"Dugong clause in a spaced name.");
    put(
        "\u{fc}n\u{ef}c\u{f8}d\u{e9} \u{6cd5}\u{5f8b}.txt",
        b"Echidna clause in a Unicode name.",
    );
    put(
        "new\nline.txt",
        b"Platypus clause in a name with a newline.",
    );
    let locked = put("locked.txt", b"Wallaby clause behind permissions.");
    // Bad files.
    let mut bad: Vec<(PathBuf, &str)> = Vec::new();
    let mut random = vec![0u8; 4096];
    let mut x: u32 = 12345;
    for b in random.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    random[10] = 0; // a NUL byte, whatever the generator gave
    bad.push((put("random.pdf", &random), "corrupt PDF"));
    bad.push((put("random.docx", &random), "corrupt DOCX"));
    bad.push((
        put("random.doc", &random),
        "corrupt doc file: not a Word 97",
    ));
    bad.push((
        put("random.wpd", &random),
        "corrupt wpd file: not a WordPerfect",
    ));
    let mut locked_wpd = fixtures::wp::lease6();
    locked_wpd[12] = 0x42; // the header's encryption key
    bad.push((put("locked.wpd", &locked_wpd), "encrypted wpd file"));
    bad.push((
        put("random.xlsx", &random),
        "corrupt spreadsheet file: not a workbook",
    ));
    bad.push((
        put("random.ppt", &random),
        "corrupt presentation file: not a presentation",
    ));
    bad.push((put("random.txt", &random), "binary"));
    let whole = pdf(&[lines(&["one"]), lines(&["two"])]);
    bad.push((
        put("truncated.pdf", &whole[..whole.len() * 2 / 3]),
        "corrupt PDF",
    ));
    let locked_pdf = pdf_with(
        &[lines(&["Secret clause."])],
        &PdfOptions {
            user_password: Some("hunter2"),
            ..PdfOptions::default()
        },
    );
    bad.push((put("encrypted.pdf", &locked_pdf), "encrypted PDF"));
    let crash = pdf_with(
        &[lines(&["text"])],
        &PdfOptions {
            no_media_box: true,
            ..PdfOptions::default()
        },
    );
    bad.push((put("crash.pdf", &crash), "panic"));
    let malformed = docx("<w:document><w:body><w:p></w:body>", &[]);
    bad.push((put("malformed.docx", &malformed), "corrupt DOCX"));
    let bomb = docs.join("bomb.docx");
    fixtures::write_zip_bomb(&bomb, 200 * 1024 * 1024);
    assert!(fs::metadata(&bomb).unwrap().len() < 1024 * 1024);
    bad.push((bomb, "zip bomb"));
    let empty: Vec<PathBuf> = ["empty.txt", "empty.pdf", "empty.docx"]
        .iter()
        .map(|n| put(n, b""))
        .collect();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        std::os::unix::fs::symlink(&docs, docs.join("a/loop")).unwrap();
    }
    let root = running_as_root();
    if !root {
        bad.push((locked.clone(), "cannot read"));
    }

    // A dry run reports the same without a model and without writing anything.
    let dry = lexsearch()
        .args(["index", "--dry-run", "--json", "--model", "/nonexistent"])
        .arg(&docs)
        .output()
        .unwrap();
    assert_eq!(
        dry.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let dry: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert!(!docs.join(".lexsearch").exists());

    let out = index(&model, &docs);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in [&report, &dry] {
        let skipped = r["skipped"].as_array().unwrap();
        let reason_of = |path: &Path| {
            skipped
                .iter()
                .find(|s| {
                    Path::new(s["path"].as_str().unwrap())
                        .ends_with(path.strip_prefix(&docs).unwrap())
                })
                .map(|s| s["reason"].as_str().unwrap().to_string())
        };
        for (path, why) in &bad {
            let reason =
                reason_of(path).unwrap_or_else(|| panic!("{} not skipped: {r}", path.display()));
            assert!(reason.contains(why), "{}: {reason}", path.display());
        }
        #[cfg(unix)]
        assert!(
            skipped
                .iter()
                .any(|s| s["reason"].as_str().unwrap().contains("symbolic link loop")),
            "{r}"
        );
        let listed: Vec<&str> = r["empty"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        for e in &empty {
            assert!(
                listed
                    .iter()
                    .any(|l| Path::new(l).ends_with(e.file_name().unwrap())),
                "{listed:?}"
            );
        }
        let expected_skips = bad.len() + usize::from(cfg!(unix));
        assert_eq!(skipped.len(), expected_skips, "{r}");
    }
    let good = 7 + usize::from(root);
    assert_eq!(report["files_indexed"], good, "{report}");
    assert_eq!(dry["files"].as_array().unwrap().len(), good);
    let crash_reason = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("crash.pdf"))
        .unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(crash_reason.contains("MediaBox"), "{crash_reason}");

    let mut words = vec![
        ("quokka", "good.txt"),
        ("wombat", "good.pdf"),
        ("numbat", "good.docx"),
        ("bilby", "a/b/c/d/e/deep.txt"),
        ("dugong", "with space.txt"),
        (
            "echidna",
            "\u{fc}n\u{ef}c\u{f8}d\u{e9} \u{6cd5}\u{5f8b}.txt",
        ),
        ("platypus", "new\nline.txt"),
    ];
    if root {
        words.push(("wallaby", "locked.txt"));
    }
    for (word, file) in words {
        let hits = search(&docs, word, &["--mode", "keyword"]);
        assert_eq!(hits.len(), 1, "{word}: {hits:?}");
        assert_eq!(hits[0]["file"], file, "{word}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Let the temporary folder be removed.
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
    }
}

/// `lexsearch index --dry-run ARGS DIR` without a model: its standard output, the run
/// having succeeded.
fn dry_run(dir: &Path, args: &[&str]) -> String {
    let out = lexsearch()
        .args(["index", "--dry-run", "--model", "/nonexistent"])
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn dry_run_lists_pages_and_paragraphs_without_a_model() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("lease.pdf"), lease_pdf()).unwrap();
    fs::write(dir.path().join("msa.docx"), msa_docx()).unwrap();
    fs::write(dir.path().join("notes.txt"), "plain text").unwrap();
    let table = dry_run(dir.path(), &[]);
    assert!(table.contains("would index 3 files"), "{table}");
    let row = |file: &str| {
        table
            .lines()
            .find(|l| l.ends_with(file))
            .unwrap_or_else(|| panic!("{file} missing: {table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(&row("lease.pdf")[..1], ["pdf"]);
    assert_eq!(row("lease.pdf")[2], "5"); // pages
    assert_eq!(row("msa.docx")[3], "12"); // paragraphs
    assert_eq!(row("notes.txt")[2..4], ["-", "-"]);
    assert!(!dir.path().join(".lexsearch").exists());
}

#[test]
fn dry_run_lists_e_mail_attachments_as_an_index_run_would() {
    let dir = tempfile::tempdir().unwrap();
    let mail = fixtures::eml(
        &[("From", "ann@firm.example"), ("Subject", "Escrow")],
        "text/plain",
        "The signed escrow agreement is attached.",
        &[(
            "escrow.pdf",
            "application/pdf",
            pdf(&[
                lines(&["ESCROW AGREEMENT", "", "Section 1. Parties"]),
                lines(&["Section 2. Release of Funds"]),
            ]),
        )],
    );
    fs::write(dir.path().join("thread.eml"), mail).unwrap();
    let report: Value = serde_json::from_str(&dry_run(dir.path(), &["--json"])).unwrap();
    let files: Vec<(&str, &str, u64)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["kind"].as_str().unwrap(),
                f["pages"].as_u64().unwrap(),
            )
        })
        .collect();
    // The e-mail and its attachment, as `index` would take them in (and name its hits).
    assert_eq!(
        files,
        [
            ("thread.eml", "eml", 0),
            ("thread.eml#escrow.pdf", "pdf", 2)
        ],
        "{report}"
    );
    assert!(!dir.path().join(".lexsearch").exists());
}

/// A valid file of each kind, to mutate.
fn seed(kind: FileKind) -> Vec<u8> {
    match kind {
        FileKind::Pdf => lease_pdf(),
        FileKind::Docx => msa_docx(),
        FileKind::Wpd => fixtures::wp::lease6(),
        FileKind::Sheet => sheet_fixture("privilege-log.xls"),
        FileKind::Slides => slides_fixture("board-deck.pptx"),
        _ => b"# Title\n\nSection 1.1 Terms. The tenant shall pay rent.\n".to_vec(),
    }
}

/// Random bytes, or a valid file of `kind` with a few bytes changed and maybe cut short.
fn hostile_bytes(kind: FileKind) -> impl Strategy<Value = Vec<u8>> {
    hostile_variants_of(seed(kind))
}

/// Random bytes, or `seed` with a few bytes changed and maybe cut short.
fn hostile_variants_of(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = seed.len();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        (
            proptest::collection::vec((0..n, any::<u8>()), 1..16),
            // Whole (flips only) half the time, else cut short.
            prop_oneof![Just(n), n / 4..=n],
        )
            .prop_map(move |(flips, len)| {
                let mut b = seed.clone();
                for (i, v) in flips {
                    b[i] = v;
                }
                b.truncate(len);
                b
            }),
    ]
}

fn survives(kind: FileKind, bytes: Vec<u8>) {
    // Keep the test output readable: caught panics are not printed.
    quiet_isolated_panics();
    // Any answer is fine (a panic inside becomes an error); returning at all is the test.
    match extract_isolated(extractor_for(kind), kind, bytes, Duration::from_secs(20)) {
        Ok(x) => {
            for r in x.pages.iter().chain(&x.paragraphs) {
                assert!(r.start <= r.end && r.end <= x.text.len());
                assert!(x.text.is_char_boundary(r.start) && x.text.is_char_boundary(r.end));
            }
        }
        Err(ExtractError::TimedOut(_)) => panic!("an extractor looped on fuzzed input"),
        Err(_) => {}
    }
}

// `PROPTEST_CASES=100000 cargo test --test integration formats::fuzz` runs a longer fuzz.
proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fuzz_pdf_extraction_never_panics_the_caller(bytes in hostile_bytes(FileKind::Pdf)) {
        survives(FileKind::Pdf, bytes);
    }

    #[test]
    fn fuzz_docx_extraction_never_panics_the_caller(bytes in hostile_bytes(FileKind::Docx)) {
        survives(FileKind::Docx, bytes);
    }

    #[test]
    fn fuzz_wordperfect_extraction_never_panics_the_caller(bytes in hostile_bytes(FileKind::Wpd)) {
        survives(FileKind::Wpd, bytes);
    }

    #[test]
    fn fuzz_spreadsheet_extraction_never_panics_the_caller(bytes in hostile_bytes(FileKind::Sheet)) {
        survives(FileKind::Sheet, bytes);
    }

    #[test]
    fn fuzz_presentation_extraction_never_panics_the_caller(bytes in hostile_bytes(FileKind::Slides)) {
        survives(FileKind::Slides, bytes);
    }

    #[test]
    fn fuzz_powerpoint_97_extraction_never_panics_the_caller(
        bytes in hostile_variants_of(slides_fixture("board-deck.ppt")),
    ) {
        survives(FileKind::Slides, bytes);
    }

    #[test]
    fn fuzz_text_extraction_never_panics_the_caller(bytes in hostile_bytes(FileKind::Text)) {
        for kind in [FileKind::Text, FileKind::Markdown, FileKind::Html, FileKind::Csv] {
            survives(kind, bytes.clone());
        }
    }
}

// `show` reads documents back as the index read them; no embedding, so a tiny model will do.
#[test]
fn show_prints_a_pdf_page_a_clause_whole_and_an_outline_as_the_index_read_them() {
    let (_dir, model, docs) = tiny_model_and_folder();
    fs::write(docs.join("lease.pdf"), lease_pdf()).unwrap();
    fs::write(docs.join("msa.docx"), msa_docx()).unwrap();
    fs::write(docs.join("notes.txt"), "Tenant shall pay rent.\n").unwrap();
    let rent = "ARTICLE I RENT\nSection 1.1 The Tenant shall pay rent monthly in advance.\n\
                Section 1.2 Late fees accrue at five percent.\n";
    fs::write(docs.join("rent.txt"), rent).unwrap();
    index_folder(&model, &docs);
    let show = |args: &[&str]| -> String {
        let out = lexsearch()
            .current_dir(&docs)
            .arg("show")
            .args(args)
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };

    // The outline names each heading's line and page.
    let outline: Value =
        serde_json::from_str(&show(&["--outline", "--json", "lease.pdf"])).unwrap();
    let heading = |name: &str| {
        outline["headings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["heading"] == name)
            .unwrap_or_else(|| panic!("{name} not in {outline}"))
            .clone()
    };
    let deposit = heading("Section 4.2 Security Deposit");
    assert_eq!(deposit["page"], 3, "{deposit}");
    let text = show(&["--outline", "lease.pdf"]);
    assert!(
        text.contains("\n20  p. 3  ARTICLE 4 SECURITY DEPOSIT\n"),
        "{text}"
    );
    assert!(
        text.contains("\n22  p. 3      Section 4.2 Security Deposit\n"),
        "{text}"
    );
    assert!(text.contains("ARTICLE 5 MISCELLANEOUS"), "{text}");

    // A hit's line gives its clause whole, from its heading to the next, on its page, without
    // the running header; the hyphenated word joined as in the index.
    let line = deposit["line"].as_u64().unwrap() + 2;
    let clause = show(&[&format!("lease.pdf:{line}")]);
    let mut lines = clause.lines();
    let head = lines.next().unwrap();
    assert!(
        head.ends_with("p. 3  (ARTICLE 4 SECURITY DEPOSIT > Section 4.2 Security Deposit)"),
        "{clause}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with("│ Section 4.2 Security Deposit"),
        "{clause}"
    );
    assert!(
        clause.contains("after the expiration or termination\n"),
        "{clause}"
    );
    assert!(
        !clause.contains("ARTICLE 5") && !clause.contains("HALVORSEN STREET LEASE"),
        "{clause}"
    );

    // A line of one of several short sections in one chunk is under its own section's heading.
    let one_line: Value = serde_json::from_str(&show(&["--json", "rent.txt:2"])).unwrap();
    assert_eq!(
        one_line["breadcrumb"],
        serde_json::json!([
            "ARTICLE I RENT",
            "Section 1.1 The Tenant shall pay rent monthly in advance."
        ]),
        "{one_line}"
    );

    // A page, as the TUI copies its place; the same in JSON.
    let page: Value = serde_json::from_str(&show(&["--json", "lease.pdf#page=3"])).unwrap();
    assert_eq!(
        (page["page"].as_u64(), page["page_end"].as_u64()),
        (Some(3), None),
        "{page}"
    );
    assert!(
        page["text"].as_str().unwrap().contains("escrow agent"),
        "{page}"
    );
    // By a full path from elsewhere, and a DOCX clause.
    let full = docs.join("msa.docx");
    let outline: Value =
        serde_json::from_str(&show(&["--outline", "--json", full.to_str().unwrap()])).unwrap();
    let invoices = outline["headings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["heading"] == "3.1 Invoices")
        .unwrap()["line"]
        .as_u64()
        .unwrap();
    let clause = show(&[&format!("{}:{invoices}", full.display())]);
    assert!(clause.contains("invoice the Customer monthly"), "{clause}");
    assert!(!clause.contains("Milestone"), "{clause}");
    // By a paragraph, as a DOCX hit names its place (`¶ N`): the paragraph after the heading
    // is in the same clause.
    let section: Value =
        serde_json::from_str(&show(&["--json", &format!("msa.docx:{invoices}")])).unwrap();
    let heading = section["paragraph"].as_u64().unwrap();
    let by_paragraph = show(&[&format!("msa.docx ¶ {}", heading + 1)]);
    assert_eq!(
        by_paragraph.lines().skip(1).collect::<Vec<_>>(),
        clause.lines().skip(1).collect::<Vec<_>>()
    );

    // Places that name nothing say what to give.
    for (place, says) in [
        ("nda.pdf:3", "is not in the index"),
        ("lease.pdf#page=9", "lease.pdf has 5 pages, so no page 9"),
        ("lease.pdf:0", "lines are numbered from 1"),
    ] {
        lexsearch()
            .current_dir(&docs)
            .args(["show", place])
            .assert()
            .code(2)
            .stderr(contains(says));
    }
    // A file changed since it was indexed is not misquoted; one that cannot be read any
    // more says so.
    assert!(show(&["notes.txt"]).contains("1 │ Tenant shall pay rent."));
    fs::write(docs.join("notes.txt"), "Landlord shall pay rent.\n").unwrap();
    lexsearch()
        .current_dir(&docs)
        .args(["show", "notes.txt:1"])
        .assert()
        .code(2)
        .stderr(contains("notes.txt changed since it was indexed"));
    fs::write(docs.join("msa.docx"), b"not a docx any more").unwrap();
    lexsearch()
        .current_dir(&docs)
        .args(["show", "msa.docx:3"])
        .assert()
        .code(2)
        .stderr(contains("cannot read msa.docx: "));
}

/// A plain-text message from Ann Lee to Bob, sent on 3 March 2020.
fn mail_from_ann(subject: &str, body: &str, attachments: &[fixtures::Attachment<'_>]) -> Vec<u8> {
    fixtures::eml(
        &[
            ("From", "Ann Lee <ann@firm.example>"),
            ("To", "bob@client.example"),
            ("Subject", subject),
            ("Date", "Tue, 3 Mar 2020 10:15:00 +0000"),
        ],
        "text/plain",
        body,
        attachments,
    )
}

#[test]
fn calendars_and_address_books_are_found_by_what_each_item_says_alone_or_attached_to_an_e_mail() {
    let (dir, model, docs) = tiny_model_and_folder();
    fs::write(
        docs.join("hearing.ics"),
        fixtures::committed("calendar", "hearing.ics"),
    )
    .unwrap();
    fs::write(
        docs.join("counsel.vcf"),
        fixtures::committed("calendar", "counsel.vcf"),
    )
    .unwrap();
    // A meeting request: the e-mail with its calendar attached, as mail programs send one.
    let closing = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
        DTSTART:20200310T150000Z\r\nDTEND:20200310T160000Z\r\nSUMMARY:Closing of the Halvorsen \
        lease\r\nLOCATION:Boardroom B\r\nORGANIZER;CN=Ann Lee:mailto:ann@firm.example\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";
    fs::write(
        docs.join("invite.eml"),
        mail_from_ann(
            "Invitation: Closing",
            "Please join the closing.",
            &[("invite.ics", "text/calendar", closing.as_bytes().to_vec())],
        ),
    )
    .unwrap();
    // Each is a document of its kind, the attached calendar too.
    let report: Value = serde_json::from_str(&dry_run(&docs, &["--json"])).unwrap();
    let kinds: BTreeSet<(&str, &str)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            ("counsel.vcf", "contacts"),
            ("hearing.ics", "calendar"),
            ("invite.eml", "eml"),
            ("invite.eml#invite.ics", "calendar"),
        ]),
        "{report}"
    );
    indexed(&model, &docs, 0);
    // An event is found by its place and people, under its own title (this test's tiny
    // model makes chunks of a line or two).
    let hit = hit_with(&docs, "deposition courtroom", "Where: Courtroom 4");
    assert_eq!(hit["file"], "hearing.ics", "{hit}");
    assert_eq!(crumbs(&hit), ["Deposition preparation"], "{hit}");
    let hit = hit_with(
        &docs,
        "Ann Lee accepted",
        "Ann Lee <ann@firm.example> (accepted)",
    );
    assert_eq!(hit["file"], "hearing.ics", "{hit}");
    // A contact by its firm, its city and its note (decoded from quoted-printable).
    for (query, line) in [
        ("Firm LLP partner", "Job title: Partner"),
        ("Springfield", "Address: 100 Main Street, Springfield"),
        ("zebracorn café", "Café Zebracorn"),
    ] {
        let hit = hit_with(&docs, query, line);
        assert_eq!(hit["file"], "counsel.vcf", "{hit}");
        assert_eq!(crumbs(&hit), ["Ann Lee"], "{hit}");
    }
    // The attached calendar carries its e-mail's headers: `from:` and `sent:` keep it.
    let hit = hit_with(&docs, "boardroom halvorsen", "Where: Boardroom B");
    assert_eq!(hit["file"], "invite.eml#invite.ics", "{hit}");
    assert_eq!(hit["mail"]["subject"], "Invitation: Closing", "{hit}");
    let kept: Vec<String> = search(
        &docs,
        "boardroom sent:2020-03 from:ann@firm.example",
        &["--mode", "keyword"],
    )
    .iter()
    .map(|h| h["file"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(kept, ["invite.eml#invite.ics"]);
    // `show` prints an item as the index read it.
    let shown = shown(&docs, "hearing.ics");
    assert!(
        shown.contains("Repeats: every 2 weeks on Monday, Wednesday until 2021-12-31"),
        "{shown}"
    );
    // A file of neither format under such a name is listed as not indexed, saying why.
    fs::write(docs.join("notes.ics"), "Call the landlord on Monday.\n").unwrap();
    let report = indexed(&model, &docs, 2);
    let (path, reason) = the_one_skipped(&report);
    assert!(path.ends_with("notes.ics"), "{path}");
    assert!(
        reason.contains("no BEGIN:VCALENDAR or BEGIN:VCARD"),
        "{reason}"
    );
    drop(dir);
}

/// The real Outlook data files `scripts/fetch-pst-fixtures` leaves (pst-extractor's test data:
/// the EDRM Enron PST and an Outlook 2013 `.ost`, with the listing pst-extractor printed of
/// them), when they are there and readpst is installed; under `LEXSEARCH_REQUIRE_PST=1` (set
/// by scripts/test) both must be.
fn pst_fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("LEXSEARCH_PST_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"))
                .join("lexsearch/pst-fixtures")
        });
    let files = dir.join(".complete-1.12.0").is_file();
    let reader =
        lexsearch::ingest::program::find_program(lexsearch::ingest::pst::PROGRAM).is_some();
    if files && reader {
        return Some(dir);
    }
    let why = if files {
        "readpst is not installed (apt install pst-utils)"
    } else {
        "no Outlook data files: run scripts/fetch-pst-fixtures"
    };
    assert!(
        std::env::var("LEXSEARCH_REQUIRE_PST").as_deref() != Ok("1"),
        "LEXSEARCH_REQUIRE_PST=1 but {why}"
    );
    eprintln!("SKIPPED: {why}");
    None
}

/// Words of `s` joined by single spaces.
fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What pst-extractor listed of `file` in its output.txt: the name of the folder holding each
/// e-mail, and its subject; calendar items left out (lexsearch names them apart, `0001.ics`).
fn pst_extractor_listing(output: &str, file: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    let mut inside = false;
    for line in output.lines().map(|l| l.trim_end_matches('\r')) {
        if line == format!("./testdata/{file}") {
            inside = true;
        } else if line.starts_with(&format!("./testdata/{file} processed")) {
            break;
        }
        let Some(at) = line.find("|- ").filter(|_| inside) else {
            continue;
        };
        // " |  |  |- Inbox": a folder two levels down; its items are one level further.
        let depth = line[..at].matches('|').count();
        folders.truncate(depth);
        match line[at + 3..].strip_prefix("Sender: ") {
            Some(item) if !folders.iter().any(|f| f == "Calendar") => {
                let subject = item.split_once(", Subject: ").map_or("", |(_, s)| s);
                out.push((folders.last().cloned().unwrap(), words(subject)));
            }
            Some(_) => {}
            None => folders.push(line[at + 3..].to_string()),
        }
    }
    out
}

/// What lexsearch indexed of the Outlook data file `file` in `docs`: the name of the folder
/// holding each message (from the file's own document, which the message's own `Folder:`
/// line must repeat) and its subject (the first line of the message's document, as `show`
/// prints it).
fn pst_messages_indexed(docs: &Path, file: &str) -> Vec<(String, String)> {
    let listing = shown(docs, file);
    let mut folder = String::new();
    let mut out = Vec::new();
    for line in listing.lines() {
        if let Some(f) = line.strip_prefix("## ") {
            folder = f.to_string();
        } else if let Some((name, _title)) = line.split_once(".eml: ") {
            let text = shown(docs, &format!("{file}#{name}.eml"));
            let mut lines = text.lines();
            let subject = lines.next().unwrap().strip_prefix("# ").unwrap();
            let subject = if subject == "(no subject)" {
                ""
            } else {
                subject
            };
            assert_eq!(lines.next(), Some(format!("Folder: {folder}").as_str()));
            let name = folder.rsplit('/').next().unwrap().to_string();
            out.push((name, words(subject)));
        }
    }
    out
}

#[test]
fn an_outlook_data_file_s_messages_are_documents_by_folder_as_another_reader_lists_them() {
    let Some(fixtures) = pst_fixtures() else {
        return;
    };
    let (dir, model, docs) = tiny_model_and_folder();
    let ost = "pstextractortest@outlook.com.ost";
    for file in ["enron.pst", ost] {
        fs::copy(fixtures.join(file), docs.join(file)).unwrap();
    }
    // Files before and after them, which parallel extraction reads beside them.
    fs::write(docs.join("a-notes.txt"), "The tenant shall pay the rent.\n").unwrap();
    fs::write(
        docs.join("z-notes.txt"),
        "The landlord shall give notice.\n",
    )
    .unwrap();
    let index = || {
        let mut cmd = lexsearch();
        cmd.args(["index", "--json", "--model"])
            .arg(&model)
            .arg(&docs);
        cmd
    };
    // Without readpst, each file is listed as not indexed, with how to install it (and the
    // run's exit status, 2, says that some files were not indexed) ...
    let no_programs = dir.path().join("no-programs");
    fs::create_dir(&no_programs).unwrap();
    let out = index().env("PATH", &no_programs).assert().code(2);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{report}");
    for s in skipped {
        let reason = s["reason"].as_str().unwrap();
        assert!(
            reason.contains("`readpst`, which is not installed"),
            "{reason}"
        );
        assert!(reason.contains("apt install pst-utils"), "{reason}");
    }
    // ... and the next run, with it, reads the unchanged files.
    let report = success_json(&mut index());
    assert!(report["skipped"].as_array().unwrap().is_empty(), "{report}");
    // Only touched (their times changed, as a copy changes them), they are hashed and not
    // read: nothing changed.
    let later = std::time::SystemTime::now() + Duration::from_secs(10);
    for file in ["enron.pst", ost] {
        let f = fs::File::options()
            .write(true)
            .open(docs.join(file))
            .unwrap();
        f.set_modified(later).unwrap();
    }
    let touched = success_json(&mut index());
    assert_eq!(
        ["touched", "changed", "chunks_embedded"].map(|k| touched[k].as_u64()),
        [Some(2), Some(0), Some(0)],
        "{touched}"
    );
    // Changed (bytes appended, which readpst passes over) and read again in a later second,
    // every message gives the same bytes: readpst's random boundaries and names, and the time
    // of the export it stamps meeting requests with, are made steady. Only the files' own
    // documents changed.
    std::thread::sleep(Duration::from_millis(1100));
    for file in ["enron.pst", ost] {
        let mut f = fs::File::options()
            .append(true)
            .open(docs.join(file))
            .unwrap();
        std::io::Write::write_all(&mut f, &[0; 4096]).unwrap();
    }
    let again = success_json(&mut index());
    let messages = report["files_indexed"].as_u64().unwrap() - 2;
    assert_eq!(
        ["changed", "unchanged", "chunks_embedded"].map(|k| again[k].as_u64()),
        [Some(2), Some(messages), Some(0)],
        "{again}"
    );

    // Every e-mail that pst-extractor (an independent reader: java-libpst's port) lists is a
    // document, in the folder it lists it in, and nothing else is.
    let expected = fs::read_to_string(fixtures.join("output.txt")).unwrap();
    for (file, count) in [("enron.pst", 71), (ost, 14)] {
        let mut theirs = pst_extractor_listing(&expected, file);
        let mut ours = pst_messages_indexed(&docs, file);
        assert_eq!(ours.len(), count, "{file}: {ours:?}");
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs, "{file}");
    }
    // `folder:` keeps the messages of the folders so named: each message of the Enron file
    // carries the data set's notice (EDRM), so a search for it finds all a folder holds.
    let listed = pst_extractor_listing(&expected, "enron.pst");
    // The messages a keyword search for `query` finds, one hit a file.
    let messages = |query: &str| -> Vec<Value> {
        let found = success_json(lexsearch().current_dir(&docs).args([
            "search",
            query,
            "--json",
            "--mode",
            "keyword",
            "-k",
            "100",
            "--max-per-file",
            "1",
        ]));
        found["hits"].as_array().unwrap().clone()
    };
    let held_in = |h: &Value, folder: &str| {
        h["mail"]["folder"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{folder}"))
    };
    for folder in ["Sent Items", "TW-Commercial Group", "Systems"] {
        let hits = messages(&format!("EDRM folder:\"{folder}\""));
        let expected = listed.iter().filter(|(f, _)| f == folder).count();
        assert!(expected > 1, "{folder}: {listed:?}");
        assert_eq!(hits.len(), expected, "{folder}: {hits:?}");
        assert!(
            hits.iter().all(|h| held_in(h, folder)),
            "{folder}: {hits:?}"
        );
    }
    // `-folder:` keeps every other message.
    let others = messages("EDRM -folder:\"Sent Items\"");
    let sent = listed.iter().filter(|(f, _)| f == "Sent Items").count();
    assert_eq!(others.len(), listed.len() - sent, "{others:?}");
    assert!(
        !others.iter().any(|h| held_in(h, "Sent Items")),
        "{others:?}"
    );
    // Calendar items are documents too, numbered apart from the messages (which keep their
    // names): an appointment with its time and rule, in the folder that holds it ...
    let hit = hit_with(&docs, "repeats for 3 days", "Repeats: daily, 3 times");
    let file = hit["file"].as_str().unwrap();
    assert!(
        file.starts_with(&format!("{ost}#0")) && file.ends_with(".ics"),
        "{hit}"
    );
    // The whole item, as `show` prints it (this test's tiny model makes chunks of a line).
    let shown = |place: &str| shown(&docs, place);
    let text = shown(file);
    assert!(
        text.starts_with(
            "# repeats for 3 days\nCalendar event\nWhen: 2021-08-10 19:00 UTC – 19:30 UTC\n"
        ),
        "{text}"
    );
    let folder_of = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("Folder: "))
            .map(str::to_string)
    };
    assert!(
        folder_of(&text).is_some_and(|f| f.ends_with("/Calendar")),
        "{text}"
    );
    // ... and a holiday in its subfolder; the data file's own document lists them under it.
    let hits = search(&docs, "Thanksgiving Day", &["--mode", "keyword"]);
    let holiday = hits
        .iter()
        .map(|h| h["file"].as_str().unwrap())
        .find(|f| f.ends_with(".ics"))
        .unwrap();
    let text = shown(holiday);
    assert!(
        folder_of(&text).is_some_and(|f| f.ends_with("/Calendar/United States holidays")),
        "{text}"
    );
    let listing = shown(ost);
    assert!(
        listing.starts_with("# Outlook data file of 14 messages and 169 calendar items in "),
        "{listing}"
    );
    let holidays = listing
        .split("/Calendar/United States holidays\n")
        .nth(1)
        .unwrap();
    let first = holidays.lines().next().unwrap();
    assert!(
        first.starts_with("0") && first.contains(".ics: ") && first.contains(" UTC"),
        "{first}"
    );
    // A message's attachment is a document of its own, and so is an attachment's text.
    let hit = hit_with(&docs, "text doc", "this is a text doc");
    let file = hit["file"].as_str().unwrap();
    assert!(
        file.starts_with(&format!("{ost}#00")) && file.ends_with(".eml#text.txt"),
        "{hit}"
    );
    assert!(
        hit["mail"]["subject"]
            .as_str()
            .unwrap()
            .contains("attachment"),
        "{hit}"
    );
    // Opening it (as the TUI does) takes it out of its message, out of the data file.
    let library = lexsearch::library::Library::at(docs.join(".lexsearch"));
    let copy = library.copy_to_open(&docs, file).unwrap();
    assert_eq!(copy.file_name().unwrap(), "text.txt");
    assert_eq!(
        fs::read_to_string(&copy).unwrap().trim(),
        "this is a text doc"
    );
    let copy = library.copy_to_open(&docs, "enron.pst#0003.eml").unwrap();
    let message = fs::read_to_string(&copy).unwrap();
    assert!(message.contains("subject: TRIP INFO"), "{message}");
    // The file's own document lists its messages under their folders, so a folder's name
    // finds them.
    let hit = hit_with(
        &docs,
        "Non-Privileged Sent Items",
        "Non-Privileged)/Sent Items",
    );
    assert_eq!(hit["file"], "enron.pst", "{hit}");
    // Extracting on three threads (as beside a GPU), where a data file's messages are sent as
    // they come after the files before it, writes the same documents in the same order.
    let fresh = |threads: &str| {
        let at = dir.path().join(format!("threads-{threads}"));
        index()
            .args(["--extract-threads", threads, "--index"])
            .arg(&at)
            .assert()
            .success();
        catalog_documents(&at)
    };
    let one = fresh("1");
    let items = |prefix: &str, kind: &str| {
        one.iter()
            .filter(|(_, rel, _)| {
                let rel = rel.to_str().unwrap();
                rel.starts_with(prefix) && rel.matches('#').count() == 1 && rel.ends_with(kind)
            })
            .count()
    };
    assert_eq!((items("enron.pst#", ".eml"), items(ost, ".eml")), (71, 14));
    // The .ost's calendar items, as readpst writes them: 8 in `Calendar`, 161 in `United
    // States holidays`; neither file holds a contact.
    assert_eq!((items("enron.pst#", ".ics"), items(ost, ".ics")), (0, 169));
    assert_eq!(items("", ".vcf"), 0);
    assert_eq!(one[0].1, Path::new("a-notes.txt"));
    assert_eq!(one.last().unwrap().1, Path::new("z-notes.txt"));
    assert_eq!(fresh("3"), one);
    // `--max-file-size` bounds each message, not the data file: the larger messages (5.5 and
    // 6.2 MB with their attachments, 1.1 MB) are refused unread, the others read.
    let out = lexsearch()
        .args(["index", "--dry-run", "--json", "--max-file-size", "1MB"])
        .arg(&docs)
        .assert()
        .code(2);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let too_large: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["reason"]
                .as_str()
                .unwrap()
                .contains("over the 1.0 MB limit")
        })
        .map(|s| s["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        too_large,
        [
            "enron.pst#0029.eml",
            "enron.pst#0030.eml",
            "enron.pst#0046.eml"
        ],
        "{}",
        report["skipped"]
    );
    let files = report["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["file"] == "enron.pst"));
    assert!(files.iter().any(|f| f["file"] == "enron.pst#0028.eml"));
    // A damaged file (cut short, as by a copy that stopped) is listed with what readpst said;
    // the others stay as they were.
    let whole = fs::read(docs.join("enron.pst")).unwrap();
    fs::write(docs.join("damaged.pst"), &whole[..600_000]).unwrap();
    let report = indexed(&model, &docs, 2);
    let (path, reason) = the_one_skipped(&report);
    assert!(path.ends_with("damaged.pst"), "{path}");
    assert!(reason.contains("readpst could not read it"), "{reason}");
    assert_eq!(report["changed"], 0, "{report}");
}

#[test]
fn each_message_of_an_mbox_mailbox_is_a_document_and_keeps_its_vectors_when_others_come_or_go() {
    let (_dir, model, docs) = tiny_model_and_folder();
    let message = mail_from_ann;
    let mut messages = vec![
        message(
            "Security deposit",
            "The landlord kept the security deposit after the walkthrough.",
            &[],
        ),
        message(
            "Signed addendum",
            "The addendum is attached.",
            &[(
                "addendum.txt",
                "text/plain",
                b"ADDENDUM\n\nThe zebracorn clause survives termination.\n".to_vec(),
            )],
        ),
        // A line starting with "From " is quoted in the mailbox (">From ") and read back as
        // written.
        message(
            "Position",
            "Our view:\r\nFrom the tenant's side the quokka provision never applied.",
            &[],
        ),
    ];
    fs::write(docs.join("inbox.mbox"), fixtures::mbox(&messages)).unwrap();
    index_folder(&model, &docs);
    let hit = hit_with(&docs, "security deposit walkthrough", "walkthrough");
    assert_eq!(hit["file"], "inbox.mbox#0001.eml", "{hit}");
    assert!(
        hit["title"]
            .as_str()
            .unwrap()
            .starts_with("Security deposit (from Ann Lee"),
        "{hit}"
    );
    let hit = hit_with(&docs, "zebracorn", "zebracorn");
    assert_eq!(hit["file"], "inbox.mbox#0002.eml#addendum.txt", "{hit}");
    let hit = hit_with(&docs, "quokka provision", "quokka");
    assert_eq!(hit["file"], "inbox.mbox#0003.eml", "{hit}");
    assert!(
        hit["text"]
            .as_str()
            .unwrap()
            .contains("From the tenant's side the quokka"),
        "{hit}"
    );
    // The mailbox's own document lists its messages.
    let hit = hit_with(&docs, "mailbox messages", "Mailbox of 3 messages");
    assert_eq!(hit["file"], "inbox.mbox", "{hit}");
    // `show` reads a message as hits name it.
    let out = lexsearch()
        .current_dir(&docs)
        .args(["show", "inbox.mbox#0002.eml"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("The addendum is attached."), "{text}");
    assert!(!text.contains("walkthrough"), "{text}");
    // A message arrives: the next run adds it, and the others stay as they were.
    messages.push(message(
        "Mediation date",
        "Mediation is set for the ninth of June.",
        &[],
    ));
    fs::write(docs.join("inbox.mbox"), fixtures::mbox(&messages)).unwrap();
    let report = indexed(&model, &docs, 0);
    assert_eq!(report["files_indexed"], 6, "{report}");
    let hit = hit_with(&docs, "mediation June", "Mediation is set");
    assert_eq!(hit["file"], "inbox.mbox#0004.eml", "{hit}");
    assert_eq!(
        hit_with(&docs, "security deposit walkthrough", "walkthrough")["file"],
        "inbox.mbox#0001.eml"
    );
    // The first message is deleted: the others move up a number, and keep their vectors
    // (a message's number is not in what its chunks embed); only the mailbox's own list of
    // its messages, whose text changed, is embedded again.
    messages.remove(0);
    fs::write(docs.join("inbox.mbox"), fixtures::mbox(&messages)).unwrap();
    let report = indexed(&model, &docs, 0);
    let listing_chunks = catalog_documents(&docs.join(".lexsearch"))
        .into_iter()
        .find(|(_, rel, _)| rel == Path::new("inbox.mbox"))
        .map(|(_, _, chunks)| chunks)
        .unwrap();
    assert_eq!(report["chunks_embedded"], listing_chunks, "{report}");
    assert!(report["chunks_reused"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(
        hit_with(&docs, "mediation June", "Mediation is set")["file"],
        "inbox.mbox#0003.eml"
    );
}

#[test]
fn an_attachment_that_a_renumbering_moves_to_another_message_carries_that_message_s_headers() {
    let (_dir, model, docs) = tiny_model_and_folder();
    // The same file attached to two messages: when the first is deleted, the second takes
    // its number, and its attachment the first's path, with the same bytes.
    let lease = || {
        vec![(
            "lease.txt",
            "text/plain",
            b"LEASE\n\nThe okapi clause survives termination.\n".to_vec(),
        )]
    };
    let mut messages = vec![
        mail_from_ann("Draft lease", "The draft is attached.", &lease()),
        mail_from_ann("Signed lease", "The signed copy is attached.", &lease()),
    ];
    fs::write(docs.join("inbox.mbox"), fixtures::mbox(&messages)).unwrap();
    index_folder(&model, &docs);
    let found = || -> Vec<(String, String)> {
        search(&docs, "okapi", &["--mode", "keyword"])
            .iter()
            .map(|h| {
                let subject = h["mail"]["subject"].as_str().unwrap().to_string();
                (h["file"].as_str().unwrap().to_string(), subject)
            })
            .collect()
    };
    let mut before = found();
    before.sort();
    assert_eq!(
        before,
        [
            ("inbox.mbox#0001.eml#lease.txt", "Draft lease"),
            ("inbox.mbox#0002.eml#lease.txt", "Signed lease")
        ]
        .map(|(f, s)| (f.to_string(), s.to_string()))
    );
    messages.remove(0);
    fs::write(docs.join("inbox.mbox"), fixtures::mbox(&messages)).unwrap();
    let report = indexed(&model, &docs, 0);
    assert_eq!(
        found(),
        [(
            "inbox.mbox#0001.eml#lease.txt".to_string(),
            "Signed lease".to_string()
        )],
        "{report}"
    );
}

#[test]
fn a_maildir_s_messages_and_their_attachments_are_indexed_and_stay_unchanged_the_next_run() {
    let (_dir, model, docs) = tiny_model_and_folder();
    let message = mail_from_ann;
    // A Maildir with a Maildir++ folder of sent mail, as Dovecot keeps them.
    let inbox = docs.join("Mail");
    for folder in [inbox.clone(), inbox.join(".Sent")] {
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(folder.join(sub)).unwrap();
        }
        fs::write(folder.join("dovecot-uidlist"), "3 V1700000000 N2\n").unwrap();
    }
    let received = "1583230500.M101P7.mx.firm.example:2,S";
    fs::write(
        inbox.join("cur").join(received),
        message(
            "Signed addendum",
            "The addendum is attached.",
            &[(
                "addendum.txt",
                "text/plain",
                b"ADDENDUM\n\nThe zebracorn clause survives termination.\n".to_vec(),
            )],
        ),
    )
    .unwrap();
    let sent = "1583231000.M102P7.mx.firm.example:2,S";
    fs::write(
        inbox.join(".Sent/cur").join(sent),
        message(
            "Position",
            "From the tenant's side the quokka provision never applied.",
            &[],
        ),
    )
    .unwrap();
    let reindex = || {
        success_json(
            lexsearch()
                .args(["index", "--json", "--model"])
                .arg(&model)
                .arg(&docs),
        )
    };
    let attachment = || hit_with(&docs, "zebracorn", "zebracorn")["file"].clone();
    // Half delivered: not read.
    fs::write(inbox.join("tmp/1583232000.M103P7.mx"), "From: x\r\n").unwrap();
    let report = reindex();
    assert_eq!(report["files_indexed"], 3, "{report}");
    assert_eq!(attachment(), format!("Mail/cur/{received}#addendum.txt"));
    let hit = hit_with(&docs, "quokka provision", "quokka");
    assert_eq!(
        hit["file"].as_str().unwrap(),
        format!("Mail/.Sent/cur/{sent}")
    );
    assert!(
        hit["title"].as_str().unwrap().starts_with("Position"),
        "{hit}"
    );
    // Each message is in its Maildir folder (and so is an attachment): `folder:` keeps them,
    // in every mode.
    assert_eq!(hit["mail"]["folder"], "Sent", "{hit}");
    // Each message's (and attachment's) file and folder, once each.
    let in_folder = |query: &str, mode: &str| -> BTreeSet<(String, String)> {
        search(&docs, query, &["--mode", mode])
            .iter()
            .map(|h| {
                let file = h["file"].as_str().unwrap().rsplit('/').next().unwrap();
                (
                    file.to_string(),
                    h["mail"]["folder"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let of = |items: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        items
            .iter()
            .map(|(f, d)| (f.to_string(), d.to_string()))
            .collect()
    };
    let attached = format!("{received}#addendum.txt");
    let in_mail = of(&[(received, "Mail"), (&attached, "Mail")]);
    for mode in ["keyword", "semantic", "hybrid"] {
        let query = "zebracorn quokka addendum";
        let folder = |f: &str| in_folder(&format!("{query} {f}"), mode);
        assert_eq!(folder("folder:sent"), of(&[(sent, "Sent")]), "{mode}");
        assert_eq!(folder("folder:MAIL"), in_mail, "{mode}");
        // `-folder:` leaves a folder's e-mails out, and keeps the rest.
        assert_eq!(folder("-folder:sent"), in_mail, "{mode}");
    }
    // Searches that find nothing (exit status 1), and say what they asked.
    let no_hits = |args: &[&str]| {
        lexsearch()
            .current_dir(&docs)
            .arg("search")
            .args(args)
            .assert()
            .code(1)
    };
    no_hits(&["quokka folder:drafts"]).stdout(contains(
        "no hits among e-mails folder:drafts (and their attachments)",
    ));
    let out = no_hits(&["--json", "--mode", "keyword", "quokka -FOLDER:\"sent\""]);
    let left_out: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        left_out["not_folder"],
        serde_json::json!(["sent"]),
        "{left_out}"
    );
    assert!(
        left_out["hits"].as_array().unwrap().is_empty(),
        "{left_out}"
    );
    no_hits(&["--mode", "keyword", "quokka -folder:sent -from:nobody"]).stdout(contains(
        "no hits other than e-mails from:nobody or folder:sent (and their attachments)",
    ));
    let out = lexsearch()
        .current_dir(&docs)
        .args(["show", &format!("Mail/cur/{received}")])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("The addendum is attached."), "{text}");
    // Nothing changed: the next run keeps everything, attachments included.
    let report = reindex();
    for field in ["added", "changed", "removed"] {
        assert_eq!(report[field], 0, "{field}: {report}");
    }
    assert_eq!(report["files_indexed"], 3, "{report}");
    // Replied to: the server renames the file with its new flags. Its text is the same, so
    // nothing is embedded again.
    let replied = received.replace(":2,S", ":2,RS");
    fs::rename(
        inbox.join("cur").join(received),
        inbox.join("cur").join(&replied),
    )
    .unwrap();
    let report = reindex();
    assert_eq!(report["chunks_embedded"], 0, "{report}");
    assert_eq!(report["files_indexed"], 3, "{report}");
    assert_eq!(attachment(), format!("Mail/cur/{replied}#addendum.txt"));
}

#[test]
fn show_reads_an_e_mail_attachment_as_hits_name_it() {
    let (_dir, model, docs) = tiny_model_and_folder();
    let mail = fixtures::eml(
        &[
            ("From", "Ann Lee <ann@firm.example>"),
            ("Subject", "Executed escrow agreement"),
            ("Date", "Tue, 3 Mar 2020 10:15:00 +0000"),
        ],
        "text/plain",
        "Bob, the escrow agreement is signed.",
        &[(
            "escrow.pdf",
            "application/pdf",
            pdf(&[
                lines(&[
                    "ESCROW AGREEMENT",
                    "",
                    "Section 1. Parties",
                    "",
                    "Buyer and seller.",
                ]),
                lines(&[
                    "Section 2. Release of Funds",
                    "",
                    "The agent releases the funds.",
                ]),
            ]),
        )],
    );
    fs::write(docs.join("thread.eml"), mail).unwrap();
    index_folder(&model, &docs);
    let out = lexsearch()
        .current_dir(&docs)
        .args(["show", "thread.eml#escrow.pdf#page=2"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("The agent releases the funds."), "{text}");
    assert!(!text.contains("Buyer and seller"), "{text}");
    let out = lexsearch()
        .current_dir(&docs)
        .args(["show", "thread.eml"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("the escrow agreement is signed"), "{text}");
}
