//! Imports the PP-OCR models into Burn 0.21 source code (weights embedded), then repairs the
//! one construct burn-onnx 0.21 gets wrong on these models: a shape `Concat` whose inputs
//! include an integer *tensor* (the output of a `Cast`) is generated as `&castN_outM[..]`,
//! which only compiles for arrays. Each such input is routed through `crate::fix::I64s`,
//! which reads a tensor back to the host (as burn-onnx 0.22 does) and leaves arrays as they
//! are. The models come from `scripts/fetch-models` like the CPU crate's.

use std::path::PathBuf;

const MODELS: [&str; 3] = ["det", "cls", "rec"];

#[expect(
    clippy::panic,
    clippy::expect_used,
    reason = "a build script reports failure by panicking"
)]
fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir =
        std::env::var_os("TOLLGATE_MODEL_DIR").map_or_else(|| root.join("models"), PathBuf::from);
    println!("cargo:rerun-if-env-changed=TOLLGATE_MODEL_DIR");
    if !MODELS
        .iter()
        .all(|m| dir.join(format!("{m}.onnx")).exists())
    {
        let script = root.join("scripts/fetch-models");
        let ok = std::process::Command::new("python3")
            .arg(&script)
            .arg("--dir")
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            panic!(
                "the OCR models are missing from {} and `python3 {}` failed",
                dir.display(),
                script.display()
            );
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("model");
    let concat_input = regex::Regex::new(r"&(cast\d+_out\d+)\[\.\.\]").expect("regex");
    for m in MODELS {
        let path = dir.join(format!("{m}.onnx"));
        println!("cargo:rerun-if-changed={}", path.display());
        burn_onnx::ModelGen::new()
            .input(&path.to_string_lossy())
            .out_dir("model/")
            .load_strategy(burn_onnx::LoadStrategy::Embedded)
            .run_from_script();
        let file = out.join(format!("{m}.rs"));
        let code = std::fs::read_to_string(&file).expect("generated model code");
        let fixed = concat_input.replace_all(&code, "&crate::fix::I64s::i64s(&$1)[..]");
        std::fs::write(&file, fixed.as_ref()).expect("rewriting generated model code");
    }
}
