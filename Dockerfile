# Colloquy: multi-stage build. The runtime image holds one binary, runs as a
# non-root user, keeps its data (database + keyring) in the /data volume and
# reports health through /healthz.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY assets ./assets
COPY demo ./demo
COPY bench ./bench
RUN cargo build --release --locked && cp target/release/colloquy /colloquy

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin colloquy \
 && mkdir -p /data && chown colloquy:colloquy /data
COPY --from=build /colloquy /usr/local/bin/colloquy
USER colloquy
WORKDIR /data
ENV COLLOQUY__SERVER__BIND=0.0.0.0:8080 \
    COLLOQUY__STORAGE__DATA_DIR=/data \
    COLLOQUY__LOGGING__FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["colloquy"]
CMD ["serve"]
