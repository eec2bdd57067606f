//! A server of canned answers on 127.0.0.1:0, for bodies and statuses the simulator never
//! gives (the documentation's malformed examples, a 400, a 429 with an hour to wait).

use std::net::SocketAddr;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;

/// One canned answer: path, status, an extra header, body.
pub type Canned = (
    &'static str,
    u16,
    Option<(&'static str, &'static str)>,
    String,
);

/// Serves canned answers; returns its base URL.
pub async fn replay(routes: Vec<Canned>) -> String {
    let mut router = Router::new();
    for (path, status, header, body) in routes {
        router = router.route(
            path,
            get(move || {
                let body = body.clone();
                async move {
                    let status = StatusCode::from_u16(status).unwrap();
                    let mut response = (status, body).into_response();
                    if let Some((name, value)) = header {
                        response
                            .headers_mut()
                            .insert(HeaderName::from_static(name), value.parse().unwrap());
                    }
                    response
                }
            }),
        );
    }
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let listener = tokio::net::TcpListener::bind(any).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}
