//! A programmable stand-in of the API on 127.0.0.1:0, for what the simulator is too kind to
//! send: endless or foreign next links, repeated pages, redirects, pages that fail. Each
//! request is answered by a closure of its path and query, and logged.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};

/// One answer: status, extra headers, body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
        }
    }

    pub fn redirect(status: u16, to: &str) -> Self {
        Self {
            status,
            headers: vec![("location", to.into())],
            body: String::new(),
        }
    }
}

pub type Answer = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

pub struct Hostile {
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    /// Every request's path and query, in order (`/api/ips/1.2.3.4/alerts?page=2`).
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Serves `answer(url_of_this_server, path_and_query)` for every request.
pub async fn serve(answer: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> Hostile {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let listener = tokio::net::TcpListener::bind(any).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let (answer, seen, base): (Answer, _, _) = (Arc::new(answer), log.clone(), url.clone());
    let router = Router::new().fallback(move |request: Request<Body>| {
        let (answer, seen, base) = (answer.clone(), seen.clone(), base.clone());
        async move {
            let target = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            seen.lock().unwrap().push(target.clone());
            let reply = answer(&base, &target);
            let mut response = Response::builder()
                .status(StatusCode::from_u16(reply.status).unwrap())
                .header(header::CACHE_CONTROL, "no-store");
            for (name, value) in reply.headers {
                response = response.header(name, value);
            }
            response.body(Body::from(reply.body)).unwrap()
        }
    });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Hostile { url, log }
}

/// `n` distinct alerts, `a{first}`..: enough fields to be real, ids unique.
pub fn alerts(first: usize, n: usize) -> Vec<serde_json::Value> {
    (first..first + n)
        .map(|i| {
            serde_json::json!({
                "id": format!("da{i:06}_1"),
                "title": format!("Alert {i}"),
                "severity": "Medium",
                "status": "New",
                "alertCreationTime": format!("2026-11-{:02}T10:00:00Z", 1 + i % 28),
            })
        })
        .collect()
}

/// The page number in `?page=N` (1 without one).
pub fn page_of(target: &str) -> usize {
    target
        .split_once("page=")
        .and_then(|(_, n)| n.split('&').next()?.parse().ok())
        .unwrap_or(1)
}
