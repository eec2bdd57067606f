//! The scheduler's own cost per request: a transport that answers at once, limits far above
//! the load, so what is measured is queueing, dispatch, bookkeeping and the events back.
//!
//!     cargo bench --bench scheduler_overhead

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mde_triage::defender::{Call, CallFuture, FetchKey, FetchValue, LookBack, Page, Transport};
use mde_triage::fetch::{FetchEvent, FetchRequest, Priority, SchedulerConfig, Ticket, spawn};

struct Instant;

impl Transport for Instant {
    fn call(&self, _call: Call) -> CallFuture {
        Box::pin(async {
            Ok(Page {
                value: FetchValue::Stats(None),
                next: None,
            })
        })
    }
}

/// `n` distinct requests in, `n` answers out.
async fn round(n: u32) {
    let config = SchedulerConfig {
        limits: "1000000/1s".parse().unwrap(),
        ..SchedulerConfig::default()
    };
    let (handle, mut events) = spawn(Arc::new(Instant), config);
    for i in 0..n {
        handle.request(FetchRequest::new(
            FetchKey::IpStats(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i)), LookBack::MONTH),
            Ticket(u64::from(i)),
            [Priority::Foreground, Priority::Batch][i as usize % 2],
        ));
    }
    let mut done = 0;
    while done < n {
        if let Some(FetchEvent::Done { .. }) = events.recv().await {
            done += 1;
        }
    }
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("scheduler");
    for n in [100u32, 1000] {
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_function(format!("{n} requests"), |b| {
            b.iter(|| rt.block_on(round(n)))
        });
    }
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
