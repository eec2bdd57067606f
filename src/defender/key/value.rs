//! A complete answer for a [`FetchKey`](super::FetchKey): the joined pages, with typed reads for
//! the readers that know which answer they asked for.

use super::super::device::Device;
use super::super::listing::{Cut, Listing};
use super::super::model::{Alert, IpStats, RelatedIp};

/// A complete answer for a key (all pages joined). Serialised as the answer it holds (the
/// cache's stored form, read back by [`Endpoint::reader`](super::Endpoint::reader)).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum FetchValue {
    /// `None`: the API answered 404, which for stats means "not seen in the org"
    /// ([`Endpoint::not_found`](super::Endpoint::not_found)).
    Stats(Option<IpStats>),
    Alerts(Listing<Alert>),
    Ips(Listing<RelatedIp>),
    /// Boxed: a device record is several times the size of the other answers.
    Device(Box<Device>),
    /// findbyip's answer; a 404 is an empty list ([`Endpoint::not_found`](super::Endpoint::not_found)).
    Devices(Listing<Device>),
    /// One alert's record; boxed like a device.
    Alert(Box<Alert>),
}

impl FetchValue {
    // Typed reads: a reader that knows which key it asked names the answer it expects, and
    // gets `None` for any other (which only a mismatched key can give).

    /// An IP's prevalence: `Some(None)` is the API's 404, "not seen in the org".
    pub fn as_stats(&self) -> Option<Option<&IpStats>> {
        match self {
            FetchValue::Stats(s) => Some(s.as_ref()),
            _ => None,
        }
    }

    /// A list of alerts (an IP's or a device's).
    pub fn as_alerts(&self) -> Option<&Listing<Alert>> {
        match self {
            FetchValue::Alerts(a) => Some(a),
            _ => None,
        }
    }

    /// An alert's related IPs.
    pub fn as_ips(&self) -> Option<&Listing<RelatedIp>> {
        match self {
            FetchValue::Ips(i) => Some(i),
            _ => None,
        }
    }

    /// One device's record.
    pub fn as_device(&self) -> Option<&Device> {
        match self {
            FetchValue::Device(d) => Some(d),
            _ => None,
        }
    }

    /// Devices (findbyip's answer).
    pub fn as_devices(&self) -> Option<&Listing<Device>> {
        match self {
            FetchValue::Devices(d) => Some(d),
            _ => None,
        }
    }

    /// One alert's record.
    pub fn as_alert(&self) -> Option<&Alert> {
        match self {
            FetchValue::Alert(a) => Some(a),
            _ => None,
        }
    }

    /// [`Self::as_stats`], owned.
    pub fn into_stats(self) -> Option<Option<IpStats>> {
        match self {
            FetchValue::Stats(s) => Some(s),
            _ => None,
        }
    }

    /// [`Self::as_alerts`], owned.
    pub fn into_alerts(self) -> Option<Listing<Alert>> {
        match self {
            FetchValue::Alerts(a) => Some(a),
            _ => None,
        }
    }

    /// [`Self::as_ips`], owned.
    pub fn into_ips(self) -> Option<Listing<RelatedIp>> {
        match self {
            FetchValue::Ips(i) => Some(i),
            _ => None,
        }
    }

    /// [`Self::as_device`], owned.
    pub fn into_device(self) -> Option<Device> {
        match self {
            FetchValue::Device(d) => Some(*d),
            _ => None,
        }
    }

    /// [`Self::as_devices`], owned.
    pub fn into_devices(self) -> Option<Listing<Device>> {
        match self {
            FetchValue::Devices(d) => Some(d),
            _ => None,
        }
    }

    /// [`Self::as_alert`], owned.
    pub fn into_alert(self) -> Option<Alert> {
        match self {
            FetchValue::Alert(a) => Some(*a),
            _ => None,
        }
    }

    /// Joins a later page onto this one: a list's pages join. Every answer is named, so a new
    /// one does not compile until it says whether it is paged. An answer that is never paged
    /// (stats, one record) is replaced by a later one, and so is a page of another shape than
    /// this one (no key's pages give one: every page of a key is decoded alike).
    pub fn append(&mut self, next: FetchValue) {
        match self {
            FetchValue::Alerts(a) => match next {
                FetchValue::Alerts(b) => a.append(b),
                other => *self = other,
            },
            FetchValue::Ips(a) => match next {
                FetchValue::Ips(b) => a.append(b),
                other => *self = other,
            },
            FetchValue::Devices(a) => match next {
                FetchValue::Devices(b) => a.append(b),
                other => *self = other,
            },
            FetchValue::Stats(_) | FetchValue::Device(_) | FetchValue::Alert(_) => *self = next,
        }
    }

    /// Says that the walk over this list's pages stopped early, and why.
    pub fn cut(&mut self, cut: Cut) {
        match self {
            FetchValue::Alerts(a) => a.cut = Some(cut),
            FetchValue::Ips(a) => a.cut = Some(cut),
            FetchValue::Devices(a) => a.cut = Some(cut),
            FetchValue::Stats(_) | FetchValue::Device(_) | FetchValue::Alert(_) => {}
        }
    }

    /// Pages read for this answer.
    pub fn pages(&self) -> usize {
        match self {
            FetchValue::Alerts(a) => a.pages,
            FetchValue::Ips(a) => a.pages,
            FetchValue::Devices(a) => a.pages,
            FetchValue::Stats(_) | FetchValue::Device(_) | FetchValue::Alert(_) => 1,
        }
    }

    /// What is missing from this answer or may be, one clause each (empty when complete).
    pub fn caveats(&self) -> Vec<String> {
        match self {
            FetchValue::Alerts(a) => a.caveats(),
            FetchValue::Ips(a) => a.caveats(),
            FetchValue::Devices(a) => a.caveats(),
            FetchValue::Stats(_) | FetchValue::Device(_) | FetchValue::Alert(_) => Vec::new(),
        }
    }

    /// [`Self::caveats`] in a few words each, for narrow places.
    pub fn short_caveats(&self) -> Vec<String> {
        match self {
            FetchValue::Alerts(a) => a.short_caveats(),
            FetchValue::Ips(a) => a.short_caveats(),
            FetchValue::Devices(a) => a.short_caveats(),
            FetchValue::Stats(_) | FetchValue::Device(_) | FetchValue::Alert(_) => Vec::new(),
        }
    }

    /// Why the list stopped early, if it did.
    pub fn cut_reason(&self) -> Option<&Cut> {
        match self {
            FetchValue::Alerts(a) => a.cut.as_ref(),
            FetchValue::Ips(a) => a.cut.as_ref(),
            FetchValue::Devices(a) => a.cut.as_ref(),
            FetchValue::Stats(_) | FetchValue::Device(_) | FetchValue::Alert(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(ids: &[&str]) -> FetchValue {
        let items: Vec<RelatedIp> = ids
            .iter()
            .map(|id| RelatedIp { id: id.to_string() })
            .collect();
        FetchValue::Ips(Listing::from(items))
    }

    fn ids(value: &FetchValue) -> Vec<&str> {
        value
            .as_ips()
            .map(|l| l.iter().map(|i| i.id.as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_list_s_pages_join_and_anything_else_is_replaced() {
        let mut value = ips(&["1.1.1.1"]);
        value.append(ips(&["2.2.2.2"]));
        assert_eq!(
            (ids(&value), value.pages()),
            (vec!["1.1.1.1", "2.2.2.2"], 2)
        );
        // Never paged: a later answer is the answer.
        let mut stats = FetchValue::Stats(None);
        stats.append(ips(&["3.3.3.3"]));
        assert_eq!(stats, ips(&["3.3.3.3"]));
        // A page of another shape is not mixed into the list it follows.
        let mut list = ips(&["1.1.1.1"]);
        list.append(FetchValue::Stats(None));
        assert_eq!(list, FetchValue::Stats(None));
    }
}
