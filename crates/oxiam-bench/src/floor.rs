//! The HTTP floor: the stack oxiam serves on (tokio's multi-threaded runtime, one worker
//! per core, hyper's HTTP/1.1 through axum) answering every request with one fixed body
//! (it allocates next to nothing, so the allocator is the system's), so that
//! oxiam's throughput can be read as a share of what the stack alone reaches on the same
//! machine, under the same load generator. Nothing is parsed, verified or looked up.
//!
//! The body is an IAM answer of GetUser's size that also carries every field the load
//! generator's set-up reads (an account, an access key and its secret), so that
//! `oxiam-bench run` works against the floor unchanged; every request gets it, 200.

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// The one answer: GetUser's shape and size, plus the fields the set-up asks for.
const BODY: &str = concat!(
    r#"<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User>"#,
    "<Path>/</Path><UserName>bench-caller</UserName><UserId>AIDAFLOORFLOORFLOOR00</UserId>",
    "<Arn>arn:aws:iam::123456789012:user/bench-caller</Arn><CreateDate>2026-12-04T00:00:00Z</CreateDate>",
    "</User><Account>123456789012</Account><AccessKeyId>AKIAFLOORFLOORFLOOR0</AccessKeyId>",
    "<SecretAccessKey>floorfloorfloorfloorfloorfloorfloorfloor</SecretAccessKey>",
    "</GetUserResult><ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId>",
    "</ResponseMetadata></GetUserResponse>",
);

async fn answer() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/xml")], BODY)
}

/// Serves the fixed answer on `listen` until the process is stopped.
pub async fn serve(listen: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("floor: listening on {}", listener.local_addr()?);
    let app = Router::new().fallback(answer);
    axum::serve(listener, app).await
}
