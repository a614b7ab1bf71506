//! Generates the gRPC code from `proto/*.proto` with a vendored protoc, so a
//! fresh checkout builds without a system protobuf compiler.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;

    // SAFETY: build scripts are single-threaded.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PROTOC", protoc)
    };
    let files = [
        "proto/common.proto",
        "proto/piecestore.proto",
        "proto/node.proto",
        "proto/metainfo.proto",
        "proto/internal.proto",
        "proto/access.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_protos(&files, &["proto"])?;
    Ok(())
}
