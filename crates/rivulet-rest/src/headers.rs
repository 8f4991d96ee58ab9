//! Response headers and bodies as Flink sends them: JSON with
//! `application/json; charset=UTF-8`, and `Access-Control-Allow-Origin: *` on
//! every answer. Error answers that did not come from a handler (body limits,
//! malformed multipart) are rewritten into `{"errors": [...]}` here.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Serializes `body` with Flink's content type.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let (status, bytes) = match serde_json::to_vec(body) {
        Ok(bytes) => (status, bytes),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"errors\":[\"Internal server error.\",\"{e}\"]}}").into_bytes(),
        ),
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

/// Adds CORS and turns plain-text error bodies into Flink's error shape.
pub async fn flink_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let failed = response.status().is_client_error() || response.status().is_server_error();
    if failed && !is_json {
        let status = response.status();
        let body = axum::body::to_bytes(std::mem::take(response.body_mut()), 64 * 1024)
            .await
            .unwrap_or_default();
        let mut text = String::from_utf8_lossy(&body).trim().to_string();
        if text.is_empty() {
            text = status.canonical_reason().unwrap_or("Error").to_string();
        }
        response = json_response(
            status,
            &rivulet_rest_api::ErrorResponse { errors: vec![text] },
        );
    }
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
