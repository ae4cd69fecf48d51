# oxiam in a container: a build stage with the Rust toolchain, and a small runtime stage
# that runs the server as a non-root user with its data under the /data volume.
#
#   docker build --build-arg OXIAM_GIT_REVISION=$(git rev-parse --short=12 HEAD) -t oxiam .
#   docker run -p 7345:7345 -v oxiam-data:/data oxiam
#
# The toolchain matches `rust-version` in Cargo.toml; the runtime's Debian matches the
# build's, so the glibc the binary links against is there.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The image carries no .git: the revision `oxiam --version` names comes from here.
ARG OXIAM_GIT_REVISION=unknown
ENV OXIAM_GIT_REVISION=${OXIAM_GIT_REVISION}
# The release profile strips the binary (its line tables go to target/release/oxiam.dwp).
RUN cargo build --release --locked -p oxiam

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 oxiam \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin oxiam \
 && mkdir -p /data/s3 \
 && chown -R oxiam:oxiam /data \
 && chmod 0700 /data
COPY --from=build /src/target/release/oxiam /usr/local/bin/oxiam
USER 10001:10001
# No transparent huge pages for the allocator even on a host whose THP mode is `always` (the
# binary is built not to ask for them; see docs/benchmarks.md, 2026-12-05 night).
ENV MIMALLOC_ALLOW_THP=0
VOLUME ["/data"]
EXPOSE 7345
ENTRYPOINT ["oxiam"]
CMD ["serve", "--listen", "0.0.0.0:7345", "--data-dir", "/data", "--log-format", "json"]
