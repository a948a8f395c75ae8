//! The run-time check, through the facade, as a user calls it.

use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dingscope::{AuthType, DenyReason, Grant, WithGrantExt, requires_scope};

static BODY_RAN: AtomicUsize = AtomicUsize::new(0);

#[requires_scope("qyapi_hrm_read_user")]
fn read_hrm() -> Result<&'static str, dingscope::Error> {
    BODY_RAN.fetch_add(1, Ordering::SeqCst);
    Ok("hrm")
}

#[requires_scope(any("Contact.User.Read", "qyapi_get_member"))]
fn read_contact() -> Result<&'static str, dingscope::Error> {
    Ok("contact")
}

#[requires_scope("snsapi_base")]
fn outer_calls_inner() -> Result<&'static str, dingscope::Error> {
    read_hrm()
}

#[requires_scope("qyapi_hrm_read_user")]
async fn list_dismissed() -> Result<Vec<&'static str>, dingscope::Error> {
    Ok(vec!["user001"])
}

#[requires_scope("Contact.User.Read", field("Contact.User.mobile"), auth = delegated)]
fn read_mobile() -> Result<&'static str, dingscope::Error> {
    Ok("13800000000")
}

fn denied(err: dingscope::Error) -> dingscope::Denied {
    err.as_denied().expect("a denial").clone()
}

#[test]
fn covered_call_runs_the_body() {
    let g = Grant::application(["qyapi_hrm_read_user"]);
    assert_eq!(g.run(read_hrm).unwrap(), "hrm");
}

#[test]
fn uncovered_call_does_not_run_the_body() {
    let before = BODY_RAN.load(Ordering::SeqCst);
    let g = Grant::application(["Contact.User.Read"]);
    let d = denied(g.run(read_hrm).unwrap_err());
    assert_eq!(BODY_RAN.load(Ordering::SeqCst), before);
    assert_eq!(d.function(), "behaviour::read_hrm");
    assert_eq!(d.reason(), &DenyReason::Missing);
    assert_eq!(
        d.missing_codes().map(|s| s.as_str()).collect::<Vec<_>>(),
        ["qyapi_hrm_read_user"]
    );
    assert_eq!(d.open_auth().rpc_scope, "qyapi_hrm_read_user");
    assert_eq!(d.open_auth().field_scope, "");
    assert_eq!(d.open_auth().auth_type, AuthType::Application);
    let (file, line) = d.location().unwrap();
    assert_declared_at(file, line, "fn read_hrm");
    assert_eq!(
        d.to_string(),
        format!(
            "`behaviour::read_hrm` ({file}:{line}) needs DingTalk permission `qyapi_hrm_read_user`; \
             request it with openAuth({{ rpcScope: \"qyapi_hrm_read_user\", type: 1 }})"
        )
    );
}

/// `file:line` names this file and the line of `name`.
fn assert_declared_at(file: &str, line: u32, name: &str) {
    assert!(file.ends_with("tests/behaviour.rs"), "{file}");
    let at = include_str!("behaviour.rs")
        .lines()
        .nth(line as usize - 1)
        .unwrap();
    assert!(at.contains(name), "line {line} is {at:?}");
}

#[test]
fn no_grant_fails_closed() {
    let d = denied(read_hrm().unwrap_err());
    assert_eq!(d.reason(), &DenyReason::NoGrant);
    assert_eq!(d.open_auth().rpc_scope, "qyapi_hrm_read_user");
}

#[test]
fn any_of_is_satisfied_by_either_alternative() {
    for code in ["Contact.User.Read", "qyapi_get_member"] {
        assert_eq!(
            Grant::application([code]).run(read_contact).unwrap(),
            "contact"
        );
    }
    let d = denied(
        Grant::application(["snsapi_base"])
            .run(read_contact)
            .unwrap_err(),
    );
    assert_eq!(d.missing().len(), 1);
    assert_eq!(d.missing()[0].len(), 2);
    // The first alternative is the one to request.
    assert_eq!(d.open_auth().rpc_scope, "Contact.User.Read");
}

#[test]
fn nested_calls_are_checked_at_each_level() {
    let both = Grant::application(["snsapi_base", "qyapi_hrm_read_user"]);
    assert_eq!(both.run(outer_calls_inner).unwrap(), "hrm");
    let outer_only = Grant::application(["snsapi_base"]);
    let d = denied(outer_only.run(outer_calls_inner).unwrap_err());
    assert_eq!(d.function(), "behaviour::read_hrm");
    let inner_only = Grant::application(["qyapi_hrm_read_user"]);
    let d = denied(inner_only.run(outer_calls_inner).unwrap_err());
    assert_eq!(d.function(), "behaviour::outer_calls_inner");
}

#[test]
fn inner_grant_wins_and_outer_comes_back() {
    let outer = Grant::application(["qyapi_hrm_read_user"]);
    let inner = Grant::application(["Contact.User.Read"]);
    outer.run(|| {
        assert!(inner.run(read_hrm).is_err());
        assert!(read_hrm().is_ok());
        assert_eq!(dingscope::current_grant().as_ref(), Some(&outer));
    });
    assert!(dingscope::current_grant().is_none());
}

#[test]
fn a_panic_inside_restores_the_outer_grant() {
    let outer = Grant::application(["qyapi_hrm_read_user"]);
    outer.run(|| {
        let inner = Grant::application(["Contact.User.Read"]);
        let r = std::panic::catch_unwind(|| inner.run(|| panic!("boom")));
        assert!(r.is_err());
        assert!(read_hrm().is_ok());
    });
}

#[test]
fn field_codes_and_auth_type() {
    let user = Grant::delegated(["Contact.User.Read", "Contact.User.mobile"]);
    assert!(user.run(read_mobile).is_ok());
    let no_field = Grant::delegated(["Contact.User.Read"]);
    let d = denied(no_field.run(read_mobile).unwrap_err());
    assert_eq!(d.open_auth().field_scope, "Contact.User.mobile");
    assert_eq!(d.open_auth().rpc_scope, "");
    assert_eq!(d.open_auth().auth_type, AuthType::Delegated);
    let app = Grant::application(["Contact.User.Read", "Contact.User.mobile"]);
    let d = denied(app.run(read_mobile).unwrap_err());
    assert_eq!(
        d.reason(),
        &DenyReason::WrongAuthType {
            required: AuthType::Delegated,
            granted: AuthType::Application
        }
    );
}

#[tokio::test]
async fn async_fn_checks_when_first_polled() {
    let granted = Grant::application(["qyapi_hrm_read_user"]);
    // Created with a grant entered, polled later without: the check sees no grant.
    let fut = granted.run(list_dismissed);
    assert!(matches!(
        denied(fut.await.unwrap_err()).reason(),
        DenyReason::NoGrant
    ));
    // Created with no grant, polled later with one: it runs.
    let fut = list_dismissed();
    assert_eq!(fut.with_grant(&granted).await.unwrap(), ["user001"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_carried_into_spawned_tasks() {
    let granted = Grant::application(["qyapi_hrm_read_user"]);
    let handle = async {
        let carried = tokio::spawn(list_dismissed().with_current_grant());
        let bare = tokio::spawn(list_dismissed());
        (carried.await.unwrap(), bare.await.unwrap())
    }
    .with_grant(&granted)
    .await;
    assert!(handle.0.is_ok());
    assert!(handle.1.is_err());
}

/// A grant entered around `block_on` of a current-thread runtime is the driven future's:
/// another task, spawned earlier with no grant and driven by the same `block_on`, does not
/// see it.
#[test]
fn a_grant_around_block_on_is_not_seen_by_other_tasks() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let other = rt.spawn(list_dismissed());
    let granted = Grant::application(["qyapi_hrm_read_user"]);
    let (mine, theirs) = granted.run(|| {
        rt.block_on(async {
            let theirs = other.await.unwrap();
            (list_dismissed().await, theirs)
        })
    });
    assert_eq!(mine.unwrap(), ["user001"]);
    assert!(matches!(
        denied(theirs.unwrap_err()).reason(),
        DenyReason::NoGrant
    ));
}

/// A `LocalSet` polled under `with_grant`: its own tasks, spawned with no grant, do not
/// see the grant; the future it drives does.
#[test]
fn a_local_set_polled_under_a_grant_keeps_it_from_its_tasks() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let other = local.spawn_local(list_dismissed());
    let granted = Grant::application(["qyapi_hrm_read_user"]);
    let (mine, theirs) = rt.block_on(
        local
            .run_until(async {
                let theirs = other.await.unwrap();
                (list_dismissed().await, theirs)
            })
            .with_grant(&granted),
    );
    assert_eq!(mine.unwrap(), ["user001"]);
    assert!(matches!(
        denied(theirs.unwrap_err()).reason(),
        DenyReason::NoGrant
    ));
}

/// Inside a task, a grant entered with `Grant::run` around synchronous work, and one
/// entered with `with_grant` around a future in `join!`-like combinators, hold.
#[tokio::test]
async fn a_grant_holds_inside_its_own_task() {
    let granted = Grant::application(["qyapi_hrm_read_user"]);
    assert_eq!(granted.run(read_hrm).unwrap(), "hrm");
    let both = async {
        let a = list_dismissed();
        let b = list_dismissed();
        let (a, b) = tokio::join!(a, b);
        (a.unwrap(), b.unwrap())
    }
    .with_grant(&granted)
    .await;
    assert_eq!(both.0, ["user001"]);
    let spawned = tokio::spawn(list_dismissed().with_grant(&granted));
    assert!(spawned.await.unwrap().is_ok());
}

struct Api(u32);

trait Directory {
    fn lookup(&self) -> Result<u32, dingscope::Error>;
}

impl Api {
    #[requires_scope("qyapi_hrm_read_user")]
    fn by_ref(&self) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
    #[requires_scope("qyapi_hrm_read_user")]
    fn by_mut(&mut self) -> Result<u32, dingscope::Error> {
        self.0 += 1;
        Ok(self.0)
    }
    #[requires_scope("qyapi_hrm_read_user")]
    fn by_value(self) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
    #[requires_scope("qyapi_hrm_read_user")]
    fn boxed(self: Box<Self>) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
    #[requires_scope("qyapi_hrm_read_user")]
    fn rc(self: Rc<Self>) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
    #[requires_scope("qyapi_hrm_read_user")]
    fn arc(self: Arc<Self>) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
    #[requires_scope("qyapi_hrm_read_user")]
    fn pinned(self: Pin<&mut Self>) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
    #[requires_scope("qyapi_hrm_read_user")]
    async fn async_ref(&self) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
}

impl Directory for Api {
    #[requires_scope("Contact.User.Read")]
    fn lookup(&self) -> Result<u32, dingscope::Error> {
        Ok(self.0)
    }
}

#[tokio::test]
async fn every_receiver_kind_is_checked() {
    let yes = Grant::application(["qyapi_hrm_read_user", "Contact.User.Read"]);
    let no = Grant::application(["snsapi_base"]);
    for g in [&yes, &no] {
        let ok = std::ptr::eq(g, &yes);
        let results = g.run(|| {
            let mut api = Api(1);
            let mut pinned = Api(6);
            vec![
                api.by_ref(),
                api.by_mut(),
                Api(3).by_value(),
                Box::new(Api(4)).boxed(),
                Rc::new(Api(5)).rc(),
                Arc::new(Api(5)).arc(),
                Pin::new(&mut pinned).pinned(),
                api.lookup(),
            ]
        });
        for r in results {
            assert_eq!(r.is_ok(), ok, "{r:?}");
        }
        assert_eq!(Api(7).async_ref().with_grant(g).await.is_ok(), ok);
    }
    // Methods are named by the module of their `impl`; the location is exact.
    let d = denied(no.run(|| Api(1).by_ref()).unwrap_err());
    assert_eq!(d.function(), "behaviour::by_ref");
    let (file, line) = d.location().unwrap();
    assert_declared_at(file, line, "fn by_ref");
    let d = denied(no.run(|| Api(1).lookup()).unwrap_err());
    assert_eq!(d.function(), "behaviour::lookup");
    let d = denied(Api(1).async_ref().await.unwrap_err());
    assert_eq!(d.function(), "behaviour::async_ref");
}

#[requires_scope("snsapi_base")]
fn which_requirement_sync() -> Result<Option<&'static str>, dingscope::Error> {
    Ok(dingscope::current_requirement().map(|r| r.function()))
}

#[requires_scope("snsapi_base")]
async fn which_requirement_async()
-> Result<(Option<&'static str>, Option<&'static str>), dingscope::Error> {
    let before = dingscope::current_requirement().map(|r| r.function());
    // Another annotated function runs and returns in between: ours is back afterwards.
    let _ = which_requirement_sync();
    tokio::task::yield_now().await;
    let after = dingscope::current_requirement().map(|r| r.function());
    Ok((before, after))
}

#[tokio::test]
async fn the_running_function_is_known_to_the_client() {
    let g = Grant::application(["snsapi_base"]);
    assert_eq!(
        g.run(which_requirement_sync).unwrap(),
        Some("behaviour::which_requirement_sync")
    );
    assert!(dingscope::current_requirement().is_none());
    let (before, after) = which_requirement_async().with_grant(&g).await.unwrap();
    assert_eq!(before, Some("behaviour::which_requirement_async"));
    assert_eq!(after, Some("behaviour::which_requirement_async"));
    assert!(dingscope::current_requirement().is_none());
}

#[test]
fn the_registry_holds_every_compiled_annotated_function() {
    let mine: Vec<_> = dingscope::registry::of_crate("behaviour").collect();
    let names: Vec<&str> = mine.iter().map(|r| r.function()).collect();
    for f in [
        "behaviour::read_hrm",
        "behaviour::by_ref",
        "behaviour::lookup",
    ] {
        assert!(names.contains(&f), "{f} missing from {names:?}");
    }
    let read_hrm = mine
        .iter()
        .find(|r| r.function() == "behaviour::read_hrm")
        .unwrap();
    let lookup = mine
        .iter()
        .find(|r| r.function() == "behaviour::lookup")
        .unwrap();
    for (name, r) in [("fn read_hrm", read_hrm), ("fn lookup", lookup)] {
        let (file, line) = r.location().unwrap();
        assert_declared_at(file, line, name);
    }
}
