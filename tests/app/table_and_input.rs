//! The alerts table sorted and filtered as the analyst types, and the input's history and
//! pasted lists, in the pure core.

use crate::support;

use crossterm::event::KeyCode;
use mde_triage::app::{AlertSort, Focus, Msg, State, Subject, update};
use mde_triage::defender::{FetchKey, FetchValue, LookBack, Severity, Status};
use mde_triage::fetch::Priority;
use support::*;

/// The doc IP with four alerts of known severity, status and age.
fn table() -> State {
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    settle(&mut s, cmds, &|k| match k {
        FetchKey::IpAlerts(_) => {
            let mut alerts = doc_alerts();
            let base = alerts[0].clone();
            alerts.clear();
            for (n, (sev, status, title, device)) in [
                (
                    Severity::Low,
                    Status::Resolved,
                    "Proxy auth failures",
                    "ws-exec-01",
                ),
                (
                    Severity::High,
                    Status::New,
                    "PowerShell cradle",
                    "ws-fin-07",
                ),
                (
                    Severity::Medium,
                    Status::InProgress,
                    "Service created",
                    "srv-build-02",
                ),
                (
                    Severity::High,
                    Status::Resolved,
                    "Beacon to rare host",
                    "ws-fin-07",
                ),
            ]
            .into_iter()
            .enumerate()
            {
                let mut a = base.clone();
                a.id = format!("da{n}_1");
                a.severity = sev;
                a.status = status;
                a.title = title.into();
                a.computer_dns_name = Some(device.into());
                a.alert_creation_time = Some(at() - chrono::Duration::hours(n as i64));
                alerts.push(a);
            }
            FetchValue::Alerts(alerts.into())
        }
        k => tenant(k),
    });
    s
}

fn titles(s: &State) -> Vec<String> {
    s.shown_alerts(&Subject::Ip(ip(DOC_IP)))
        .iter()
        .map(|a| a.title.clone())
        .collect()
}

#[test]
fn s_cycles_the_order_and_selection_follows_the_view() {
    let mut s = table();
    assert_eq!(titles(&s)[0], "Proxy auth failures", "newest first");
    update(&mut s, ch('s'));
    assert_eq!(s.alert_sort, AlertSort::Severity);
    assert_eq!(
        titles(&s),
        [
            "PowerShell cradle",
            "Beacon to rare host",
            "Service created",
            "Proxy auth failures"
        ],
        "worst first, newest first within a severity"
    );
    update(&mut s, ch('s'));
    assert_eq!(
        titles(&s)[..2],
        ["PowerShell cradle".to_owned(), "Service created".to_owned()],
        "new, then in progress"
    );
    // Enter opens the row under the cursor in this order, not the API's.
    update(&mut s, ch('j'));
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        s.location().unwrap().alert.as_ref().unwrap().as_str(),
        "da2_1"
    );
    let screen = render(&s, 120, 40);
    assert!(screen.contains("sorted by status"), "{screen}");
}

#[test]
fn slash_in_the_table_filters_as_you_type() {
    let mut s = table();
    assert_eq!(s.focus, Focus::Alerts);
    update(&mut s, ch('/'));
    assert!(s.alert_filter.editing);
    type_text(&mut s, "fin-07 BEACON");
    assert_eq!(
        titles(&s),
        ["Beacon to rare host"],
        "every word, any field, any case"
    );
    let screen = render(&s, 120, 40);
    assert!(screen.contains("1 of 4 alerts"), "{screen}");
    // Enter keeps the filter and gives the keys back: j moves, q would quit.
    update(&mut s, key(KeyCode::Enter));
    assert!(!s.alert_filter.editing && s.alert_filter.is_active());
    update(&mut s, ch('/'));
    type_text(&mut s, "zzz");
    let screen = render(&s, 120, 40);
    assert!(screen.contains("No alert matches"), "{screen}");
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(titles(&s).len(), 4, "Esc clears it");
    // Outside the table, / still goes to the IP input.
    update(&mut s, key(KeyCode::Tab));
    update(&mut s, ch('/'));
    assert_eq!(s.focus, Focus::Input);
}

#[test]
fn up_and_down_walk_the_ips_looked_up() {
    let mut s = State::new(None, "api");
    for text in ["10.0.0.1", "10[.]0[.]0[.]2", "10.0.0.1"] {
        let cmds = submitted(&mut s, text);
        settle(&mut s, cmds, &tenant);
    }
    update(&mut s, ch('i'));
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.input.value(), "10.0.0.1", "the last one, once");
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.input.value(), "10.0.0.2", "normalised");
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.input.value(), "10.0.0.2", "the oldest stays");
    update(&mut s, key(KeyCode::Down));
    update(&mut s, key(KeyCode::Down));
    assert_eq!(s.input.value(), "", "past the newest: empty again");
    type_text(&mut s, "k");
    assert_eq!(s.input.value(), "k", "k is a letter here, not Up");
}

#[test]
fn a_pasted_list_is_offered_as_a_queue() {
    let mut s = State::new(None, "api");
    update(
        &mut s,
        Msg::Paste(
            "IOCs: 203.0.113[.]5, 198.51.100.7\n203.0.113.5; not-an-ip 2001:db8::9\n".into(),
        ),
    );
    assert_eq!(s.overlay.pasted().map(Vec::len), Some(3), "deduplicated");
    assert!(s.notice.as_deref().unwrap().contains("3 IPs found"));
    let cmds = update(&mut s, key(KeyCode::Enter));
    let reqs = fetches(&cmds);
    let first: Vec<_> = reqs
        .iter()
        .filter(|r| r.priority == Priority::Foreground)
        .collect();
    assert_eq!(first.len(), 2, "the first looked up now");
    assert!(first.iter().all(
        |r| r.key == FetchKey::IpStats(ip("203.0.113.5"), LookBack::MONTH)
            || r.key == FetchKey::IpAlerts(ip("203.0.113.5"))
    ));
    let queued = reqs
        .iter()
        .filter(|r| r.priority == Priority::Prefetch)
        .count();
    assert_eq!(queued, 4, "the two others queued in the background");
    assert_eq!(s.input.history().len(), 3);

    // Esc keeps only the first, in the input, to be checked before Enter.
    let mut t = State::new(None, "api");
    update(&mut t, Msg::Paste("10.1.1.1 10.1.1.2".into()));
    assert!(fetches(&update(&mut t, key(KeyCode::Esc))).is_empty());
    assert_eq!(t.input.value(), "10.1.1.1");
    // A single indicator is simply typed in.
    let mut u = State::new(None, "api");
    update(&mut u, Msg::Paste(" 10(.)9(.)8(.)7\n".into()));
    assert!(u.overlay.pasted().is_none());
    assert_eq!(u.input.value(), "10(.)9(.)8(.)7");
}

#[test]
fn y_copies_and_o_opens_what_is_selected() {
    use mde_triage::app::Cmd;
    let mut s = table();
    s.tenant_id = Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into());
    assert_eq!(s.focus, Focus::Alerts);
    let copy = update(&mut s, ch('y'));
    assert_eq!(
        copy,
        vec![Cmd::Copy("da0_1".into())],
        "the alert under the cursor"
    );
    update(&mut s, key(KeyCode::Tab)); // details: no alert open, so the IP
    assert_eq!(update(&mut s, ch('y')), vec![Cmd::Copy(DOC_IP.into())]);
    assert_eq!(
        update(&mut s, ch('o')),
        vec![Cmd::Open(format!(
            "https://security.microsoft.com/ip/{DOC_IP}/overview?tid=72f988bf-86f1-41af-91ab-2d7cd011db47"
        ))]
    );
    // What the loop says back lands in the status bar.
    update(&mut s, Msg::Notice(format!("copied {DOC_IP}")));
    assert!(render(&s, 120, 40).contains("copied 10.209.67.177"));
    let mut empty = State::new(None, "api");
    update(&mut empty, key(KeyCode::Esc));
    assert!(update(&mut empty, ch('y')).is_empty());
    assert_eq!(empty.notice.as_deref(), Some("look up an IP first"));
}

#[test]
fn slash_with_no_alerts_listed_goes_to_the_ip_box_not_an_invisible_filter() {
    let mut s = State::new(None, "api");
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.focus, Focus::Alerts);
    update(&mut s, ch('/'));
    assert_eq!(s.focus, Focus::Input, "nothing to filter: the IP box");
    assert!(!s.alert_filter.editing);
    update(&mut s, ch('1'));
    assert_eq!(s.input.value(), "1");
    // With alerts listed, `/` filters them.
    let mut t = table();
    update(&mut t, ch('/'));
    assert!(t.alert_filter.editing);
}
