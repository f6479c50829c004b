//! Link scripts: cortex-m-rt's `link.x` includes `memory.x` itself; riscv-rt's does not, so
//! RISC-V gets `-Tmemory.x` first. Each architecture has its own `memory.x` under `link/`.

use std::{env, fs, path::PathBuf};

fn main() {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let dir = match arch.as_str() {
        "arm" => "link/arm",
        "riscv32" => "link/riscv",
        _ => return,
    };
    let memory = PathBuf::from(dir).join("memory.x");
    fs::copy(&memory, out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", memory.display());
    println!("cargo:rerun-if-changed=build.rs");
    if arch == "riscv32" {
        println!("cargo:rustc-link-arg=-Tmemory.x");
    }
    println!("cargo:rustc-link-arg=-Tlink.x");
}
