//! Builds the admin portal (`admin-ui/`, TypeScript + Vite) and embeds its files in the
//! binary, so `cargo run -- serve` serves a working portal under `/admin` with no other
//! step. Runs `npm ci` when `admin-ui/node_modules` is missing or older than the lockfile,
//! then `npm run build` (Vite; types are erased, so the bundle does not depend on the
//! generated API types: `npm run check` type-checks them against `openapi/openapi.yaml` in
//! the test suite). Cargo reruns this only when a portal source or its lockfile changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("../../admin-ui");
    for watched in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", ui.join(watched).display());
    }
    // A portal built elsewhere (the Dockerfile's Node stage) is embedded as it is.
    println!("cargo:rerun-if-env-changed=TOLLGATE_PORTAL_DIST");
    let dist = match std::env::var_os("TOLLGATE_PORTAL_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => {
            if let Err(e) = build_portal(&ui) {
                // A build script has no other way to stop the build with a message.
                eprintln!("\nerror: building the admin portal (admin-ui/) failed: {e}\n");
                std::process::exit(1);
            }
            ui.join("dist")
        }
    };
    if !dist.join("index.html").exists() {
        eprintln!("error: {} has no index.html", dist.display());
        std::process::exit(1);
    }
    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    files.sort();
    let mut out = String::from("/// The portal's built files: (path below /admin/, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        let _ = writeln!(out, "    ({rel:?}, include_bytes!({abs:?})),");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("admin_assets.rs");
    if let Err(e) = std::fs::write(&target, out) {
        eprintln!("error: writing {}: {e}", target.display());
        std::process::exit(1);
    }
}

fn npm(ui: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("npm")
        .args(args)
        .current_dir(ui)
        .status()
        .map_err(|e| {
            format!(
                "could not run `npm {}` ({e}). The portal is built with Node.js 20+ and npm: \
                 install them (Debian: `apt-get install nodejs npm`) and build again",
                args.join(" ")
            )
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`npm {}` in {} exited with {status}",
            args.join(" "),
            ui.display()
        ))
    }
}

fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn build_portal(ui: &Path) -> Result<(), String> {
    let installed = ui.join("node_modules/.package-lock.json");
    let stale = match (
        modified(&installed),
        modified(&ui.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    };
    if stale {
        npm(ui, &["ci", "--no-audit", "--no-fund"])?;
    }
    npm(ui, &["run", "build", "--silent"])
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(base, &path, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((
                rel,
                path.canonicalize().unwrap_or(path).display().to_string(),
            ));
        }
    }
}
