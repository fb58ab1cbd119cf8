//! Byte scans of a data directory: the erasure and retention tests read every file as raw
//! bytes and look for what must not be there any more.

use std::path::Path;

/// Every file under `dir`, recursively: how many, and all their bytes. A file that vanishes
/// while the scan runs (SQLite removing its journal as matrix-sdk closes its store) is
/// skipped.
///
/// # Panics
/// If a directory or file cannot be read for another reason.
pub fn scan(dir: &Path) -> (usize, Vec<u8>) {
    let mut files = 0;
    let mut bytes = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("the directory can be read") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            match std::fs::read(&path) {
                Ok(content) => {
                    files += 1;
                    bytes.extend(content);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("{}: {e}", path.display()),
            }
        }
    }
    (files, bytes)
}

/// Whether `needle` occurs in `haystack`.
pub fn found(haystack: &[u8], needle: &str) -> bool {
    memchr::memmem::find(haystack, needle.as_bytes()).is_some()
}

/// A marker unique to this test run, to seed into a store and look for afterwards.
///
/// # Panics
/// If the system clock is before 1970.
pub fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .subsec_nanos();
    format!("{label}-{nanos:09}")
}
