//! A small REST client: JSON in and out, Flink's `{"errors": [...]}`
//! answers turned into readable errors.

use anyhow::{Context, anyhow};
use reqwest::multipart::{Form, Part};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub struct RestClient {
    base: String,
    http: reqwest::Client,
}

impl RestClient {
    /// `address` is `host:port` as Flink's `-m` takes it, or a full URL.
    pub fn new(address: &str) -> RestClient {
        let address = address.trim().trim_end_matches('/');
        let base = if address.starts_with("http://") || address.starts_with("https://") {
            address.to_string()
        } else {
            format!("http://{address}")
        };
        RestClient {
            base,
            http: reqwest::Client::new(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn patch<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.patch(self.url(path)).json(&serde_json::json!({})))
            .await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.delete(self.url(path))).await
    }

    /// A multipart POST with one file part per `(part name, file name, bytes)`
    /// and optional text parts.
    pub async fn post_multipart<T: DeserializeOwned>(
        &self,
        path: &str,
        texts: &[(&str, String)],
        files: Vec<(&str, String, Vec<u8>)>,
    ) -> anyhow::Result<T> {
        let mut form = Form::new();
        for (name, text) in texts {
            form = form.part(
                name.to_string(),
                Part::text(text.clone()).mime_str("text/plain; charset=UTF-8")?,
            );
        }
        for (name, file_name, bytes) in files {
            form = form.part(
                name.to_string(),
                Part::bytes(bytes)
                    .file_name(file_name)
                    .mime_str("application/octet-stream")?,
            );
        }
        self.send(self.http.post(self.url(path)).multipart(form))
            .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1{path}", self.base)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = request
            .send()
            .await
            .with_context(|| format!("could not reach the JobManager at {}", self.base))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("the JobManager at {} sent no answer", self.base))?;
        if !status.is_success() {
            return Err(anyhow!("{}", error_message(status.as_u16(), &text)));
        }
        serde_json::from_str(&text)
            .with_context(|| format!("unexpected answer from the JobManager ({status}): {text}"))
    }
}

/// The server's error, as readable as its body allows: Flink puts the
/// message first, or after "Internal server error." for a 500.
fn error_message(status: u16, body: &str) -> String {
    let errors: Vec<String> = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("errors").cloned())
        .and_then(|e| serde_json::from_value(e).ok())
        .unwrap_or_default();
    let message = match errors.as_slice() {
        [first, second, ..] if first == "Internal server error." => second.clone(),
        [first, ..] => first.clone(),
        [] => body.to_string(),
    };
    format!("the JobManager answered {status}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_flinks_host_port_form_or_a_url() {
        assert_eq!(
            RestClient::new("localhost:8081").base(),
            "http://localhost:8081"
        );
        assert_eq!(RestClient::new("http://h:1/").base(), "http://h:1");
    }

    #[test]
    fn error_bodies_become_the_servers_message() {
        assert_eq!(
            error_message(404, r#"{"errors":["Job could not be found."]}"#),
            "the JobManager answered 404: Job could not be found."
        );
        assert_eq!(
            error_message(500, r#"{"errors":["Internal server error.","<boom>"]}"#),
            "the JobManager answered 500: <boom>"
        );
        assert_eq!(
            error_message(502, "bad gateway"),
            "the JobManager answered 502: bad gateway"
        );
    }
}
