//! What an opened alert names that the analyst can pivot to: the pivot list, read from the
//! alert's related lists (its IPs today). The pane, the selection, Enter, the tag target and
//! what the place needs read only this: a kind of place an alert can name is one list in
//! [`lists`], one arm in [`read`], and the arms the compiler then points at.

use super::state::State;
use crate::case::Subject;
use crate::defender::{AlertId, Endpoint, FetchKey, FetchValue};

/// One row of the pivot list: the place it leads to, or, when what the API gave is no place
/// this build can go to, only the text it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// As the API wrote it (sanitised where it was decoded).
    pub written: String,
    pub place: Option<Subject>,
}

/// The answers that list what alert `id` names, in the order the pivot list shows them. Every
/// endpoint says whether it is one: a new endpoint does not compile until it has said.
pub fn lists(id: &AlertId) -> Vec<FetchKey> {
    Endpoint::ALL
        .into_iter()
        .filter_map(|e| match e {
            Endpoint::AlertIps => Some(FetchKey::AlertIps(id.clone())),
            Endpoint::IpStats
            | Endpoint::IpAlerts
            | Endpoint::Machine
            | Endpoint::MachineAlerts
            | Endpoint::FindByIp
            | Endpoint::Alert => None,
        })
        .collect()
}

/// The rows one related list gives. Every kind of answer is named: a new list's answer does not
/// compile until it is read here (or said to list nothing one can pivot to).
fn read(value: &FetchValue) -> Vec<Related> {
    match value {
        FetchValue::Ips(ips) => ips
            .iter()
            .map(|entry| Related {
                written: entry.id.clone(),
                place: entry.addr().map(Subject::Ip),
            })
            .collect(),
        FetchValue::Stats(_)
        | FetchValue::Alerts(_)
        | FetchValue::Device(_)
        | FetchValue::Devices(_)
        | FetchValue::Alert(_) => Vec::new(),
    }
}

impl State {
    /// The pivot list of alert `id`: the rows of each of its related lists that are in, in
    /// order; `None` until the first list is in (the pane says it is loading).
    pub fn related_of(&self, id: &AlertId) -> Option<Vec<Related>> {
        let keys = lists(id);
        self.remote(keys.first()?).value()?;
        Some(keys.iter().flat_map(|k| self.related_in(k)).collect())
    }

    /// The rows of one related list, once it is in.
    pub fn related_in(&self, list: &FetchKey) -> Vec<Related> {
        self.remote(list).value().map(read).unwrap_or_default()
    }

    /// The row the pivot list has selected at the current place, if any.
    pub fn selected_related(&self) -> Option<Related> {
        let loc = self.location()?;
        let id = loc.alert.as_ref()?;
        self.related_of(id)?.into_iter().nth(loc.ip_row)
    }

    /// How many rows the current place's pivot list has (0 with no alert open or none in).
    pub fn related_len(&self) -> usize {
        self.location()
            .and_then(|loc| self.related_of(loc.alert.as_ref()?))
            .map_or(0, |r| r.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::RelatedIp;

    #[test]
    fn a_related_ip_leads_to_its_place_and_text_that_is_none_stays_text() {
        let ips: Vec<RelatedIp> = ["10.0.0.1", "not-an-ip"]
            .map(|id| RelatedIp { id: id.into() })
            .to_vec();
        let rows = read(&FetchValue::Ips(ips.into()));
        assert_eq!(
            rows,
            vec![
                Related {
                    written: "10.0.0.1".into(),
                    place: Some(Subject::Ip("10.0.0.1".parse().unwrap())),
                },
                Related {
                    written: "not-an-ip".into(),
                    place: None,
                },
            ]
        );
        assert!(read(&FetchValue::Stats(None)).is_empty());
    }
}
