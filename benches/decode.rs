//! Reading one page of alerts as the API sends it: JSON parsed, then every element and field read
//! on its own (`defender::fields`), strings sanitised. The cost of never losing an alert to one
//! odd field, per page of 100 (the simulator's page) and of 10,000 (`$top`'s maximum).
//!
//!     cargo bench --bench decode

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mde_triage::defender::FetchKey;
use mde_triage::defender::client::decode_page;

/// A page of `n` alerts with the fields a real one carries, evidence and a comment included.
fn page(n: usize) -> Vec<u8> {
    let alerts: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": format!("da63{i:014}_-1234567890"),
                "incidentId": 1000 + i,
                "investigationId": 7,
                "assignedTo": "secop@contoso.com",
                "severity": "Medium",
                "status": "New",
                "classification": "TruePositive",
                "determination": null,
                "investigationState": "Running",
                "detectionSource": "WindowsDefenderAtp",
                "category": "CommandAndControl",
                "threatFamilyName": null,
                "title": format!("Suspicious connection to a rare external host {i}"),
                "description": "A process made a connection to a host seen by few devices in the organisation.",
                "alertCreationTime": "2026-11-20T09:14:00.1234567Z",
                "firstEventTime": "2026-11-20T09:12:00Z",
                "lastEventTime": "2026-11-20T09:13:00Z",
                "lastUpdateTime": "2026-11-20T09:15:00Z",
                "resolvedTime": null,
                "machineId": "111e6dd8c833c8a052ea231ec1b19adaf497b625",
                "computerDnsName": format!("ws-{i}.contoso.local"),
                "rbacGroupName": "Workstations",
                "aadTenantId": "a839b112-1253-6432-9bf6-94542403f21c",
                "relatedUser": {"userName": "bob", "domainName": "CONTOSO"},
                "mitreTechniques": ["T1071", "T1105"],
                "comments": [{"comment": "looking", "createdBy": "amy@contoso.com", "createdTime": "2026-11-20T10:00:00Z"}],
                "evidence": [{"entityType": "Process", "fileName": "powershell.exe", "filePath": "C:\\Windows\\System32", "processCommandLine": "powershell -enc AAAA", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "@odata.context": "https://api.security.microsoft.com/api/$metadata#Alerts",
        "value": alerts,
    }))
    .unwrap()
}

fn decode(c: &mut Criterion) {
    let key = FetchKey::IpAlerts("10.209.67.177".parse().unwrap());
    let mut group = c.benchmark_group("decode_alerts_page");
    for n in [100, 10_000] {
        let body = page(n);
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(if n > 1000 { 10 } else { 50 });
        group.bench_function(format!("{n}_alerts_{}_KiB", body.len() / 1024), |b| {
            b.iter(|| decode_page(&key, std::hint::black_box(&body)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
