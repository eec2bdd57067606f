//! One team admission decision's round trip (the admit script: trim, count every window, add)
//! on a unix socket and on loopback TCP, against a throwaway redis-server started here.
//! Prints one line and measures nothing where `redis-server` is not installed.
//!
//!     cargo bench --bench team_admit

#[allow(dead_code)]
#[path = "../tests/support/redis.rs"]
mod redis_server;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mde_triage::defender::Endpoint;
use mde_triage::fetch::{Ask, BudgetPolicy, Ledger, Link, Priority, Verdict};
use mde_triage::team::{TeamLedger, TeamUrl};

fn bench(c: &mut Criterion) {
    let Some(server) = redis_server::RedisServer::start_with_tcp() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Limits far above the load: every decision admits, so each adds one call to the log.
    let policy = BudgetPolicy {
        limits: "100000000/1m,100000000/1h".parse().unwrap(),
        reserve: 0.2,
        slack: Duration::from_millis(500),
    };
    let tcp = server.tcp_url().unwrap();
    for (name, url) in [("unix socket", server.url()), ("loopback tcp", tcp)] {
        let ledger = rt.block_on(async {
            let url = TeamUrl::parse(&url).unwrap();
            let reg = format!("bench-{name}").replace(' ', "-");
            let l = TeamLedger::start(url, reg, policy.clone(), Vec::new()).await;
            assert_eq!(l.link(), Link::Connected, "{name}");
            // Past the new epoch's grace, so what is measured is the admission itself.
            tokio::time::sleep(Duration::from_millis(1_300)).await;
            l
        });
        let mut seq = 0u64;
        c.bench_function(&format!("team admit ({name})"), |b| {
            b.iter(|| {
                seq += 1;
                let ask = Ask {
                    endpoint: Endpoint::IpStats,
                    priority: Priority::Batch,
                    seq,
                };
                let v = rt.block_on(ledger.admit(ask));
                assert_eq!(v, Verdict::Admitted);
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
