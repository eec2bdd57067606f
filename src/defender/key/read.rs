//! How each endpoint's answer is read: from the API's body (the client) and from its stored
//! form (the cache). One table, so the two never disagree on what an endpoint answers, and a
//! new endpoint does not compile until it says both.

use serde_json::Value;

use super::super::client::{list, not_a};
use super::super::device::Device;
use super::super::error::ApiError;
use super::super::fields::{Fields, read_logged};
use super::super::listing::{Item, Listing};
use super::super::model::{Alert, IpStats, RelatedIp};
use super::super::transport::Page;
use super::{Endpoint, FetchValue};

/// An endpoint's two readers.
#[derive(Clone, Copy)]
pub struct Reader {
    /// One page of the API's answer, already parsed as JSON (the raw body is for the error).
    pub page: fn(&Value, &[u8]) -> Result<Page, ApiError>,
    /// The cache's stored form: [`FetchValue`]'s own serialisation, read with the same lenient
    /// model the API goes through.
    pub stored: fn(&str) -> serde_json::Result<FetchValue>,
}

impl Endpoint {
    /// How this endpoint's answer is read.
    pub fn reader(self) -> Reader {
        match self {
            Endpoint::IpStats => Reader {
                page: |json, body| {
                    let stats = record(json, body, "an object of IP statistics", IpStats::read)?;
                    Ok(Page::last(FetchValue::Stats(Some(stats))))
                },
                stored: |s| Ok(FetchValue::Stats(serde_json::from_str(s)?)),
            },
            Endpoint::IpAlerts | Endpoint::MachineAlerts => Reader {
                page: |json, body| list_page(json, body, FetchValue::Alerts),
                stored: |s| Ok(FetchValue::Alerts(stored_listing(s)?)),
            },
            Endpoint::AlertIps => Reader {
                page: |json, body| list_page(json, body, FetchValue::Ips),
                stored: |s| Ok(FetchValue::Ips(stored_listing::<RelatedIp>(s)?)),
            },
            Endpoint::Machine => Reader {
                page: |json, body| {
                    let device = record(json, body, "a device record", Device::read)?;
                    Ok(Page::last(FetchValue::Device(Box::new(device))))
                },
                stored: |s| Ok(FetchValue::Device(Box::new(serde_json::from_str(s)?))),
            },
            Endpoint::FindByIp => Reader {
                page: |json, body| list_page(json, body, FetchValue::Devices),
                stored: |s| Ok(FetchValue::Devices(stored_listing(s)?)),
            },
            Endpoint::Alert => Reader {
                page: |json, body| {
                    let alert = record(json, body, "an alert record", Alert::read)?;
                    Ok(Page::last(FetchValue::Alert(Box::new(alert))))
                },
                stored: |s| Ok(FetchValue::Alert(Box::new(serde_json::from_str(s)?))),
            },
        }
    }
}

/// One record: a JSON object read field by field (an odd field is logged, never fatal).
fn record<T>(
    json: &Value,
    body: &[u8],
    wanted: &str,
    read: fn(&mut Fields<'_>) -> T,
) -> Result<T, ApiError> {
    let Value::Object(map) = json else {
        return Err(not_a(json, wanted, body));
    };
    Ok(read_logged(map, read).0)
}

/// One page of a list, with its next link as the API gave it.
fn list_page<T: Item>(
    json: &Value,
    body: &[u8],
    wrap: fn(Listing<T>) -> FetchValue,
) -> Result<Page, ApiError> {
    let (listing, next) = list(json, body)?;
    Ok(Page {
        value: wrap(listing),
        next,
    })
}

/// A stored list with what it says of itself, or a bare array as earlier builds stored it.
fn stored_listing<T: serde::de::DeserializeOwned>(body: &str) -> serde_json::Result<Listing<T>> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Stored<T> {
        Listing(Listing<T>),
        Bare(Vec<T>),
    }
    Ok(match serde_json::from_str(body)? {
        Stored::Listing(l) => l,
        Stored::Bare(items) => Listing::of(items),
    })
}
