//! What the console reads of devices: a device's record and name, the device an alert names,
//! and who held an internal IP at the opened alert's time (or why that is not asked).

use super::State;
use crate::app::history::Location;
use crate::defender::{Alert, Device, DeviceId, FetchKey};

/// Why the device that held an IP is not asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holders {
    /// Not an IP's page with an alert open or a time given (`w`), or no clock yet: nothing to
    /// ask at a time.
    NoAlert,
    /// A call the API could only refuse or answer emptily: never made.
    Refused(crate::defender::findbyip::Refused),
}

impl State {
    /// A device's record, once loaded.
    pub fn device(&self, id: &DeviceId) -> Option<&Device> {
        self.remote(&FetchKey::Device(id.clone()))
            .value()?
            .as_device()
    }

    /// Who held the IP on screen at the time the analyst gave (`w`), else when the opened
    /// alert happened: the findbyip key, or why it is not asked (a public IP never spends the
    /// call; a time outside the API's 30 days; no time, or no clock yet). The alert's first
    /// event is the moment the address was in use; its creation time when the API gives no
    /// event time.
    pub fn holders_key(&self) -> Result<FetchKey, Holders> {
        self.holders_key_at(self.location().ok_or(Holders::NoAlert)?)
    }

    /// [`Self::holders_key`] for the place `loc`.
    pub fn holders_key_at(&self, loc: &Location) -> Result<FetchKey, Holders> {
        let ip = loc.subject.ip().ok_or(Holders::NoAlert)?;
        let at = match self.held_at.get(&ip) {
            Some(at) => *at,
            None => {
                let alert = self.alert_at(loc).ok_or(Holders::NoAlert)?;
                alert
                    .first_event_time
                    .or(alert.alert_creation_time)
                    .ok_or(Holders::NoAlert)?
            }
        };
        let now = self.now.ok_or(Holders::NoAlert)?;
        FetchKey::devices_at(ip, at, now).map_err(Holders::Refused)
    }

    /// The devices that held an IP at a time, once loaded.
    pub fn holders(&self, key: &FetchKey) -> Option<&[Device]> {
        Some(self.remote(key).value()?.as_devices()?)
    }

    /// A device's name once its record is here, else (or when the record names nothing)
    /// the id it was asked by.
    pub fn device_name(&self, id: &DeviceId) -> String {
        self.device(id)
            .map(|d| d.name().trim())
            .filter(|n| !n.is_empty())
            .map_or_else(|| id.to_string(), str::to_owned)
    }

    /// The device an alert names, as a key the API takes (`None`: no machine id, or one the
    /// API would not accept).
    pub fn device_id_of(alert: &Alert) -> Option<DeviceId> {
        let id = alert.machine_id.as_deref()?.trim();
        crate::defender::parse_device_id(id).ok()
    }
}
