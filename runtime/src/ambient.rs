//! The ambient state: which grant the annotated functions on this thread check against,
//! and which annotated function is running.
//!
//! Like a `tracing` span, a grant is *entered* for the length of a closure
//! ([`Grant::run`](crate::Grant::run)) or of each poll of a future
//! ([`WithGrantExt::with_grant`](crate::WithGrantExt::with_grant)). Entering nests: the
//! innermost grant wins, and the outer one is back when the inner ends, even on panic. A
//! task spawned inside does not inherit the grant by itself: pass it on with
//! [`WithGrantExt::with_current_grant`](crate::WithGrantExt::with_current_grant).
//!
//! A grant is also tied to the Tokio task that entered it (with the `tokio-tasks`
//! feature, on by default): entering records the task's id (none outside any task), and the check
//! sees the grant only from that task. So the other tasks an executor drives inside an
//! entered scope, such as those of a current-thread runtime's `block_on` called inside
//! [`Grant::run`](crate::Grant::run), or of a `LocalSet` polled under
//! [`with_grant`](crate::WithGrantExt::with_grant), do not see it. Other executors have no
//! task identity to compare: there, a future driven inside an entered scope sees the
//! grant unless it is wrapped in a [`WithGrant`](crate::WithGrant) of its own.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr;

use crate::callsite::Callsite;
use crate::granted::Granted;
use crate::requirement::Requirement;

/// What this thread is running under: one thread-local, so entering a task's state
/// costs one lookup.
#[repr(C)]
struct State {
    /// The entered grant.
    grant: Cell<*const Granted>,
    /// The task that entered it.
    task: Cell<Task>,
    /// The innermost annotated function running.
    running: Cell<Option<Callsite>>,
}

thread_local! {
    static STATE: State = const {
        State {
            grant: Cell::new(ptr::null()),
            task: Cell::new(NO_TASK),
            running: Cell::new(None),
        }
    };
}

/// A task's identity: the Tokio task's id, `None` outside any task.
#[cfg(feature = "tokio-tasks")]
type Task = Option<tokio::task::Id>;
/// Without Tokio's task ids, every task is the same.
#[cfg(not(feature = "tokio-tasks"))]
#[derive(Clone, Copy, PartialEq, Eq)]
struct Task;

#[cfg(feature = "tokio-tasks")]
const NO_TASK: Task = None;
#[cfg(not(feature = "tokio-tasks"))]
const NO_TASK: Task = Task;

/// The task running now.
#[inline(always)]
fn this_task() -> Task {
    #[cfg(feature = "tokio-tasks")]
    {
        tokio::task::try_id()
    }
    #[cfg(not(feature = "tokio-tasks"))]
    {
        Task
    }
}

/// The entered grant if the task running now entered it, else null.
#[inline(always)]
fn visible(s: &State) -> *const Granted {
    let p = s.grant.get();
    if p.is_null() || s.task.get() == this_task() {
        p
    } else {
        ptr::null()
    }
}

/// The requirement of the innermost annotated function now running, if any: the client
/// compares DingTalk's denials with it.
pub fn current_requirement() -> Option<&'static Requirement> {
    STATE.with(|s| s.running.get()).map(Callsite::requirement)
}

/// The mark that an annotated function is running ([`mark`]), until dropped. An annotated
/// function takes one once its check has passed and holds it for its whole body; in an
/// `async fn` it lives across awaits, and [`WithGrant`](crate::WithGrant) keeps each
/// task's marker to itself by saving and restoring it around every poll.
#[doc(hidden)]
#[derive(Debug)]
pub struct Running {
    prev: Option<Callsite>,
}

/// Marks `site` as the running function.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline)]
pub(crate) fn mark(site: Callsite) -> Running {
    Running {
        prev: STATE.with(|s| s.running.replace(Some(site))),
    }
}

impl Drop for Running {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    fn drop(&mut self) {
        STATE.with(|s| s.running.set(self.prev));
    }
}

/// A grant entered for the length of `'a`; restores the previous one when dropped.
pub(crate) struct Entered<'a> {
    prev: (*const Granted, Task),
    grant: PhantomData<&'a Granted>,
}

/// Enters `grant` for the task running now until the returned guard drops; the borrow
/// keeps the grant alive for as long as it is entered.
#[inline]
pub(crate) fn enter(grant: &Granted) -> Entered<'_> {
    let task = this_task();
    Entered {
        prev: STATE.with(|s| (s.grant.replace(grant), s.task.replace(task))),
        grant: PhantomData,
    }
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        STATE.with(|s| {
            s.grant.set(self.prev.0);
            s.task.set(self.prev.1);
        });
    }
}

/// A task's state entered for one poll: restores the thread's on drop (also on panic),
/// keeping the task's running-function marker in `slot` for its next poll.
pub(crate) struct TaskEntered<'a> {
    prev: (*const Granted, Task, Option<Callsite>),
    slot: &'a mut Option<Callsite>,
}

/// Enters a task's grant (or its absence) and its running-function marker for one poll.
/// Inline: [`WithGrant::poll`](crate::WithGrant) is instantiated in the caller's crate,
/// and this is most of it.
#[inline]
pub(crate) fn enter_task<'a>(
    grant: Option<&'a Granted>,
    slot: &'a mut Option<Callsite>,
) -> TaskEntered<'a> {
    let grant = grant.map_or(ptr::null(), |g| g as *const Granted);
    let task = this_task();
    TaskEntered {
        prev: STATE.with(|s| {
            (
                s.grant.replace(grant),
                s.task.replace(task),
                s.running.replace(*slot),
            )
        }),
        slot,
    }
}

impl Drop for TaskEntered<'_> {
    #[inline]
    fn drop(&mut self) {
        STATE.with(|s| {
            *self.slot = s.running.replace(self.prev.2);
            s.grant.set(self.prev.0);
            s.task.set(self.prev.1);
        });
    }
}

/// Calls `f` with a reference to the ambient grant, or `None` outside any (or when
/// another task entered it).
#[inline(always)]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Granted>) -> R) -> R {
    let p = STATE.with(visible);
    // SAFETY: a non-null pointer was stored by `enter` or `enter_task` from a borrow that
    // outlives their guard, which restores the previous value when dropped; this
    // reference does not outlive this call, which runs inside that scope on this thread.
    f(unsafe { p.as_ref() })
}

/// The ambient grant's pointer, null outside any (or when another task entered it); see
/// [`with_current`] for why a non-null one is live.
pub(crate) fn current_ptr() -> *const Granted {
    STATE.with(visible)
}
