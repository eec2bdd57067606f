//! The property: one process alone on an empty start, its ledger decides exactly what its own
//! `Budget` decides, for random runs of lanes, endpoints, refunds and pauses.

use super::*;

/// One step of a random run: a gap (ms), a lane, an endpoint, and what follows an admission.
#[derive(Debug, Clone)]
struct Step {
    gap: i64,
    priority: Priority,
    endpoint: Endpoint,
    /// Take the call back (`Some(None)`: never sent; `Some(Some(ms))`: a 429 with a pause).
    back: Option<Option<u64>>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![Just(0i64), 1i64..400, 400i64..12_000],
        prop_oneof![
            Just(Priority::Batch),
            Just(Priority::Prefetch),
            Just(Priority::Visible),
            Just(Priority::Foreground)
        ],
        prop_oneof![Just(Endpoint::IpStats), Just(Endpoint::AlertIps)],
        prop_oneof![
            8 => Just(None),
            1 => Just(Some(None)),
            1 => (1u64..8_000).prop_map(|ms| Some(Some(ms))),
        ],
    )
        .prop_map(|(gap, priority, endpoint, back)| Step {
            gap,
            priority,
            endpoint,
            back,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// One process on an empty start: the ledger and the budget the actor keeps read every
    /// window, lane, refund and pause alike. Windows of 5 s and more, where the ledger's reach
    /// (at least 50 ms of slack, capped) and the budget's (1%, capped) are the same.
    #[test]
    fn the_ledger_and_the_budget_agree(
        steps in proptest::collection::vec(step(), 1..60),
        slack in prop_oneof![Just(0u64), Just(30), Just(50), Just(500)],
        limits in prop_oneof![Just("3/5s,5/30s"), Just("2/10s"), Just("4/6s,6/1m")],
    ) {
        let (_dir, path) = db();
        let p = policy(limits, 0.25, slack);
        let l = ledger(&path, SCOPE, &p);
        let base = Instant::now();
        let mut budgets: HashMap<Endpoint, Budget> = HashMap::new();
        let mut now = T0;
        for (seq, s) in steps.iter().enumerate() {
            now += s.gap;
            let at = base + Duration::from_millis((now - T0) as u64);
            let budget = budgets.entry(s.endpoint).or_insert_with(|| p.budget());
            let reserve = p.reserve_for(s.priority);
            let want = match budget.paused_for(at) {
                Some(left) => Verdict::Paused(left),
                None => budget_says(budget, base, now, reserve),
            };
            let got = l.admit_at(ask(s.endpoint, s.priority, seq as u64), now).unwrap();
            prop_assert_eq!(got, want, "step {} at +{} ms", seq, now - T0);
            if got == Verdict::Admitted {
                budget.record(at);
                if let Some(pause) = s.back {
                    budget.unrecord(at);
                    if let Some(ms) = pause {
                        budget.pause(at, at + Duration::from_millis(ms));
                    }
                    l.take_back_at(s.endpoint, seq as u64, pause.map(Duration::from_millis), now)
                        .unwrap();
                }
            }
        }
    }
}
