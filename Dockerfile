# redline: the admission webhook image (also runs `redline lint`/`fix` on mounted files).
#   docker build -t ghcr.io/redline-dev/redline:0.1.0 .
# Build stage: the toolchain; the dependency graph is fetched once and cached by layer.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY rules ./rules
COPY benches ./benches
RUN cargo build --release --locked --bin redline \
 && strip target/release/redline

# Runtime: distroless with glibc (mimalloc and ring are built against it), no shell,
# no package manager; runs as the image's non-root user (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/redline /usr/local/bin/redline
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/redline"]
CMD ["serve", "--listen=0.0.0.0:8443"]
