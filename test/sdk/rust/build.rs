// Generates the `Reading` struct and a FileDescriptorSet for it with prost-build, the way the SDK's
// README describes the protobuf path (a prost message + the descriptor loaded from a descriptor
// file). protoc: $PROTOC if set, else the vendored binary the SDK's own build also uses.
use std::path::PathBuf;

fn main() {
    if std::env::var_os("PROTOC").is_none() {
        std::env::set_var(
            "PROTOC",
            protoc_bin_vendored::protoc_bin_path().expect("vendored protoc"),
        );
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    prost_build::Config::new()
        .file_descriptor_set_path(out.join("reading.descriptor"))
        .compile_protos(&["../reading.proto"], &[".."])
        .expect("compile reading.proto");
    println!("cargo:rerun-if-changed=../reading.proto");
    println!("cargo:rerun-if-env-changed=PROTOC");
}
