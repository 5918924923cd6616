# Build a static binary, then ship it alone in a distroless image as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/accessbot ./cmd/accessbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/accessbot /accessbot
USER 65532:65532
# PORT, not ACCESSBOT_LISTEN: the config file's listen wins over PORT, and a platform that sets PORT wins over this.
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/accessbot"]
CMD ["serve"]
