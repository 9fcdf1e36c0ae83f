//! Errors and odd files: clear messages, skipped entries and exit codes scripts can rely on
//! (0 ok, 1 no hits, 2 error). These use a tiny random model, so they run without the real one.

use std::fs;
use std::path::Path;

use predicates::str::contains;

use crate::common::{
    Tiny, index_folder, index_json_with_skipped, lexsearch, tiny_model_and_folder, write_tiny_model,
};

fn tiny(dir: &Path) -> std::path::PathBuf {
    let m = dir.join("model");
    write_tiny_model(&m, &Tiny::default());
    m
}

#[test]
fn a_folder_that_is_not_there_is_named_by_index_and_by_watch_before_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder");
    for command in ["index", "watch"] {
        // A model that is not there either: the folder is what is said first.
        lexsearch()
            .arg(command)
            .arg(&missing)
            .arg("--model")
            .arg(dir.path().join("no-such-model"))
            .assert()
            .code(2)
            .stderr(contains(format!("{} does not exist", missing.display())));
    }
    assert!(!missing.exists());
}

#[test]
fn a_file_given_for_the_folder_or_the_index_is_named_as_a_file_with_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lease.txt");
    std::fs::write(&file, "The Tenant shall pay rent.\n").unwrap();
    // The folder to index: the one that holds the file is suggested.
    lexsearch()
        .arg("index")
        .arg(&file)
        .arg("--model")
        .arg(dir.path().join("no-such-model"))
        .assert()
        .code(2)
        .stderr(contains("lease.txt is a file, not a folder"))
        .stderr(contains(format!(
            "`lexsearch index {}`",
            dir.path().display()
        )));
    // The index: every command says the same, and nothing is written.
    let said = "lease.txt is a file, not an index folder: pass `--index` the folder of an index";
    for args in [
        &["search", "rent"][..],
        &["status"],
        &["verify"],
        &["compact"],
        &["show", "lease.txt"],
    ] {
        lexsearch()
            .args(args)
            .arg("--index")
            .arg(&file)
            .assert()
            .code(2)
            .stderr(contains(said));
    }
    let folder = dir.path().join("docs");
    std::fs::create_dir(&folder).unwrap();
    lexsearch()
        .arg("index")
        .arg(&folder)
        .arg("--index")
        .arg(&file)
        .arg("--model")
        .arg(dir.path().join("no-such-model"))
        .assert()
        .code(2)
        .stderr(contains(said));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "The Tenant shall pay rent.\n"
    );
}

#[test]
fn searching_without_an_index_says_how_to_build_one() {
    let dir = tempfile::tempdir().unwrap();
    lexsearch()
        .current_dir(dir.path())
        .args(["search", "deposit"])
        .assert()
        .code(2)
        .stderr(contains("no lexsearch index"))
        .stderr(contains("lexsearch index DIR"));
}

#[test]
fn a_missing_model_names_the_fetch_script_and_the_model_flag() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "text").unwrap();
    lexsearch()
        .args(["index", "--model", "/nonexistent/model"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("scripts/fetch-model"))
        .stderr(contains("--model DIR"));
}

#[test]
fn another_model_is_refused_for_searching_and_for_extending_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let model_a = tiny(dir.path());
    let model_b = dir.path().join("model-b");
    write_tiny_model(&model_b, &Tiny::default()); // other random weights
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("lease.txt"), "The tenant shall pay rent.").unwrap();
    crate::common::index_folder(&model_a, &docs);
    lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--model"])
        .arg(&model_b)
        .assert()
        .code(2)
        .stderr(contains("was built with model"))
        .stderr(contains(model_a.display().to_string()));
    lexsearch()
        .args(["index", "--model"])
        .arg(&model_b)
        .arg(&docs)
        .assert()
        .code(2)
        .stderr(contains("was built with model"))
        .stderr(contains("--rebuild"));
    // Keyword search needs no model at all.
    lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--mode", "keyword"])
        .assert()
        .success();
    // --rebuild switches models.
    lexsearch()
        .args(["index", "--quiet", "--rebuild", "--model"])
        .arg(&model_b)
        .arg(&docs)
        .assert()
        .success();
    lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--model"])
        .arg(&model_b)
        .assert()
        .success();
}

#[test]
fn an_unwritable_index_location_suggests_the_index_flag() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny(dir.path());
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("a.txt"), "text").unwrap();
    // A regular file where the index's parent folder should be: unwritable even for root.
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, "").unwrap();
    lexsearch()
        .args(["index", "--model"])
        .arg(&model)
        .arg("--index")
        .arg(blocker.join("idx"))
        .arg(&docs)
        .assert()
        .code(2)
        .stderr(contains("cannot write the index"))
        .stderr(contains("--index PATH"));
}

#[test]
fn a_file_over_the_size_limit_is_skipped_naming_the_limit_that_would_take_it() {
    let (_dir, model, docs) = tiny_model_and_folder();
    fs::write(docs.join("small.txt"), "The Tenant shall pay rent.\n").unwrap();
    fs::write(
        docs.join("large.txt"),
        "The Landlord shall repair. ".repeat(3000),
    )
    .unwrap();
    let index = |limit: &str| {
        lexsearch()
            .args(["index", "--quiet", "--max-file-size", limit, "--model"])
            .arg(&model)
            .arg(&docs)
            .assert()
    };
    // 81,000 bytes against 64 KiB: skipped, exit status 2, and the flag that takes it named.
    index("64k").code(2).stdout(contains(
        "large.txt: file is 81000 bytes, over the 65536 bytes limit (raise it with \
         `--max-file-size 1MB`)",
    ));
    index("1MB").success();
    index("a lot")
        .code(2)
        .stderr(contains("\"a lot\" is not a size"));
}

#[test]
fn odd_files_are_decoded_reported_or_skipped_and_the_exit_code_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny(dir.path());
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(
        docs.join("latin1.txt"),
        b"Die Kaution f\xfcr die Wohnung zahlt der Mieter.",
    )
    .unwrap();
    fs::write(docs.join("empty.txt"), "").unwrap();
    fs::write(
        docs.join("binary.txt"),
        [0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3],
    )
    .unwrap();
    fs::write(docs.join("notes.pdfx"), "unsupported").unwrap();
    let report = index_json_with_skipped(&model, &docs);
    assert_eq!(report["files_indexed"], 1);
    assert_eq!(report["unsupported"], 1);
    assert!(report["empty"][0].as_str().unwrap().ends_with("empty.txt"));
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]["path"].as_str().unwrap().ends_with("binary.txt"));
    assert!(skipped[0]["reason"].as_str().unwrap().contains("binary"));
    // The Latin-1 text was decoded, not dropped.
    lexsearch()
        .current_dir(&docs)
        .args(["search", "für", "--mode", "keyword"])
        .assert()
        .success()
        .stdout(contains("latin1.txt"));
    // No hits: exit code 1, and the other modes suggested, not the one just used.
    lexsearch()
        .current_dir(&docs)
        .args(["search", "zebra", "--mode", "keyword"])
        .assert()
        .code(1)
        .stdout(contains("no hits (try --mode hybrid or --mode semantic"));
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_are_skipped_with_the_fix_and_such_a_folder_is_refused_untouched() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let model = tiny(dir.path());
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(
        docs.join("lease.txt"),
        "The Tenant shall pay rent monthly.\n",
    )
    .unwrap();
    // "Vertrag München.txt" as an old Windows share names it (cp1252 bytes).
    fs::write(
        docs.join(OsStr::from_bytes(b"Vertrag M\xfcnchen.txt")),
        "Der Mieter zahlt die Miete.\n",
    )
    .unwrap();
    // The report is whole JSON, the name written with U+FFFD for its bad byte.
    let report = index_json_with_skipped(&model, &docs);
    assert_eq!(report["files_indexed"], 1);
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("Vertrag M\u{fffd}nchen.txt")
    );
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("not valid UTF-8") && reason.contains("convmv"),
        "{reason}"
    );
    // The index is whole, and searchable.
    lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--mode", "keyword"])
        .assert()
        .success()
        .stdout(contains("lease.txt"));
    // A folder whose own path is not UTF-8: refused before anything is written.
    let folder = dir.path().join(OsStr::from_bytes(b"Akten M\xe4rz"));
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("lease.txt"), "The Tenant shall pay rent.\n").unwrap();
    lexsearch()
        .args(["index", "--model"])
        .arg(&model)
        .arg(&folder)
        .assert()
        .code(2)
        .stderr(contains("has a path that is not valid UTF-8"))
        .stderr(contains("rename the folder"));
    assert!(!folder.join(".lexsearch").exists());
}

#[test]
fn asking_for_cuda_in_a_cpu_build_is_an_error_not_a_fallback() {
    if cfg!(feature = "cuda") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = tiny(dir.path());
    lexsearch()
        .args(["model", "check", "--device", "cuda"])
        .arg(&model)
        .assert()
        .code(2)
        .stdout(contains("--features cuda"));
}

#[test]
fn an_empty_or_blank_query_is_an_error_not_arbitrary_hits() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny(dir.path());
    let docs = dir.path().join("docs");
    fs::create_dir_all(&docs).unwrap();
    fs::write(docs.join("lease.txt"), "The tenant pays rent monthly.\n").unwrap();
    index_folder(&model, &docs);
    for query in ["", "   ", "\t\n"] {
        for mode in ["keyword", "semantic", "hybrid"] {
            lexsearch()
                .current_dir(&docs)
                .args(["search", "--mode", mode, "--model"])
                .arg(&model)
                .arg(query)
                .assert()
                .code(2)
                .stdout("")
                .stderr(contains("empty query"));
        }
    }
    // Punctuation alone: nothing to search for either, said with the query. A root too short
    // to be one (`r*nt` would find every "r") is refused, saying how to write one.
    let punctuation = "to search for";
    let short_root = "a root needs at least two letters";
    for (query, says) in [
        ("*", punctuation),
        ("(((", punctuation),
        ("-", punctuation),
        ("\"\"", punctuation),
        ("r*nt", short_root),
        ("tenant +*ays", short_root),
        ("a! rent", short_root),
    ] {
        lexsearch()
            .current_dir(&docs)
            .args(["search", "--mode", "hybrid", "--model"])
            .arg(&model)
            .arg(query)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(says));
    }
    // A root of two letters or more is searched.
    lexsearch()
        .current_dir(&docs)
        .args(["search", "--mode", "keyword", "--model"])
        .arg(&model)
        .arg("re*t")
        .assert()
        .success()
        .stdout(contains("lease.txt"));
    // A section sign is something to search for.
    lexsearch()
        .current_dir(&docs)
        .args(["search", "--mode", "keyword", "--model"])
        .arg(&model)
        .arg("§")
        .assert()
        .code(1);
}

/// A tiny model and a `docs` folder holding one lease, under `dir`.
fn model_and_lease(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let model = tiny(dir);
    let docs = dir.join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("lease.txt"), "The tenant shall pay rent.").unwrap();
    (model, docs)
}

/// `lexsearch index --quiet --model MODEL EXTRA… DOCS`.
fn index_with(model: &Path, docs: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = lexsearch();
    cmd.args(["index", "--quiet", "--model"])
        .arg(model)
        .args(extra)
        .arg(docs);
    cmd
}

#[test]
fn an_int8_index_keeps_its_precision_and_refuses_f32_vectors_until_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (model, docs) = model_and_lease(dir.path());
    let index = |extra: &[&str]| index_with(&model, &docs, extra);
    index(&["--precision", "int8"]).assert().success();
    fs::write(docs.join("deed.txt"), "The grantor conveys the land.").unwrap();
    // f32 vectors are not added to int8 ones, for new files or for searching.
    index(&["--precision", "f32"])
        .assert()
        .code(2)
        .stderr(contains("--precision int8"))
        .stderr(contains("--rebuild"));
    lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--precision", "f32", "--model"])
        .arg(&model)
        .assert()
        .code(2)
        .stderr(contains("computed with --precision int8"));
    // Without --precision the index's own is kept: it is extended and searched in int8.
    index(&[]).assert().success();
    lexsearch()
        .current_dir(&docs)
        .args(["search", "grantor", "--mode", "semantic", "--model"])
        .arg(&model)
        .assert()
        .success()
        .stdout(contains("deed.txt"));
    // The same precision extends it; --rebuild switches.
    index(&["--precision", "int8"]).assert().success();
    index(&["--rebuild"]).assert().success();
    index(&["--precision", "int8"])
        .assert()
        .code(2)
        .stderr(contains("computed with --precision f32"));
}

#[test]
fn an_int8_index_of_an_earlier_int8_scheme_is_refused_naming_both_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let (model, docs) = model_and_lease(dir.path());
    let index = || index_with(&model, &docs, &["--precision", "int8"]);
    index().assert().success();
    // Indexes written before int8 schemes were named record `int8-<model>`: vectors from
    // symmetric activation codes, which this build's int8 vectors are not.
    let index_dir = docs.join(".lexsearch");
    let current = fs::read_to_string(index_dir.join("CURRENT")).unwrap();
    let manifest = index_dir.join(current.trim()).join("manifest.json");
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("-asym8\""), "{text}");
    fs::write(&manifest, text.replace("-asym8\"", "\"")).unwrap();
    fs::write(docs.join("deed.txt"), "The grantor conveys the land.").unwrap();
    index()
        .assert()
        .code(2)
        .stderr(contains("int8 scheme sym8"))
        .stderr(contains("scheme asym8"))
        .stderr(contains("--rebuild"));
    lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--mode", "semantic", "--model"])
        .arg(&model)
        .assert()
        .code(2)
        .stderr(contains("int8 scheme sym8"));
}

#[test]
fn int8_is_refused_on_a_gpu_with_the_precisions_that_run_there() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny(dir.path());
    fs::write(dir.path().join("a.txt"), "text").unwrap();
    lexsearch()
        .args([
            "index",
            "--device",
            "cuda",
            "--precision",
            "int8",
            "--model",
        ])
        .arg(&model)
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("int8"))
        .stderr(contains("--precision f16 or bf16"));
}

// Documents come from anyone (a production from the other side): a file name or a text with
// terminal escape sequences must not clear the screen or write the clipboard when a hit is
// printed, and a script reading `-l` still gets the name as it is.
#[test]
fn escape_sequences_in_a_file_name_or_its_text_are_printed_visibly_not_sent_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny(dir.path());
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    let name = "lease\u{1b}[2J.txt";
    fs::write(
        docs.join(name),
        "The tenant shall pay rent.\u{1b}]52;c;cm0gLXJmIH4=\u{7} A security deposit.\n",
    )
    .unwrap();
    index_folder(&model, &docs);
    let out = lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--mode", "keyword", "--color", "never"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("lease\\u{1b}[2J.txt:1"), "{text}");
    assert!(
        text.contains("rent.\\u{1b}]52;c;cm0gLXJmIH4=\\u{7} A security"),
        "{text}"
    );

    let listed = lexsearch()
        .current_dir(&docs)
        .args(["search", "-l", "rent", "--mode", "keyword"])
        .assert()
        .success();
    let listed = String::from_utf8(listed.get_output().stdout.clone()).unwrap();
    assert_eq!(listed, format!("{}\n", docs.join(name).display()));
}
