//! `include/libcb.h` is exactly what cbindgen 0.29.4 generates from this crate.
//!
//! Generates into memory and compares; it never writes the file, except when a developer asks
//! for it explicitly with `CBREAKER_WRITE_HEADER=1` (`make header`).

use std::collections::HashSet;
use std::path::PathBuf;

fn generate() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include/libcb.h")
}

#[test]
fn header_is_current() {
    let fresh = generate();
    if std::env::var_os("CBREAKER_WRITE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(header_path(), &fresh).expect("write include/libcb.h");
        return;
    }
    let committed = std::fs::read_to_string(header_path()).unwrap_or_default();
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b);
        panic!(
            "include/libcb.h is out of date (first difference at line {:?}); run `make header` and commit it",
            line.map(|l| l + 1)
        );
    }
}

#[test]
fn header_lists_every_status_once() {
    let header = std::fs::read_to_string(header_path()).expect("include/libcb.h");
    let mut values = HashSet::new();
    let mut names = 0;
    for line in header.lines() {
        let Some(rest) = line.strip_prefix("#define CB_STATUS_") else {
            continue;
        };
        let value: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect("numeric status");
        assert!(values.insert(value), "status value {value} defined twice");
        assert!(
            cb::ALL_STATUSES.contains(&value),
            "CB_STATUS_{rest} missing from ALL_STATUSES"
        );
        names += 1;
    }
    assert_eq!(
        names,
        cb::ALL_STATUSES.len(),
        "ALL_STATUSES lists a status the header lacks"
    );
}

#[test]
fn every_exported_function_is_documented() {
    let header = std::fs::read_to_string(header_path()).expect("include/libcb.h");
    let lines: Vec<&str> = header.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let is_decl =
            line.contains(" cb_") && line.contains('(') && !line.trim_start().starts_with('*');
        if is_decl && !line.starts_with(' ') && !line.starts_with("#") {
            let prev = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .copied()
                .unwrap_or("");
            assert!(prev.trim_end().ends_with("*/"), "undocumented: {line}");
        }
    }
}
