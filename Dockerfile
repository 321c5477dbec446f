# Release image of the `weatherwise` binary. Build: docker build -t weatherwise .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p weatherwise

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/weatherwise weatherwise
COPY --from=build /src/target/release/weatherwise /usr/local/bin/weatherwise
USER weatherwise
WORKDIR /var/lib/weatherwise
ENV WEATHERWISE_HTTP__LISTEN=0.0.0.0:8080 WEATHERWISE_DATA_DIR=/var/lib/weatherwise/data
EXPOSE 8080
CMD ["weatherwise", "serve"]
