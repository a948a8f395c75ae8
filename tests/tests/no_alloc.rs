//! The success path of the check allocates nothing: counted with a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dingscope::{Grant, requires_scope};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[requires_scope(
    "qyapi_hrm_read_user",
    any("Contact.User.Read", "qyapi_get_member"),
    field("Contact.User.mobile")
)]
fn covered() -> Result<u32, dingscope::Error> {
    Ok(1)
}

#[requires_scope("Custom.Thing.Read")]
fn uncatalogued() -> Result<u32, dingscope::Error> {
    Ok(2)
}

#[test]
fn success_path_allocates_nothing() {
    let grant = Grant::application([
        "qyapi_hrm_read_user",
        "qyapi_get_member",
        "Contact.User.mobile",
        "Custom.Thing.Read",
    ]);
    let n = allocations_in(|| {
        grant.run(|| {
            for _ in 0..1000 {
                assert_eq!(covered().unwrap(), 1);
                assert_eq!(uncatalogued().unwrap(), 2);
            }
        })
    });
    assert_eq!(n, 0);
}

#[test]
fn the_counter_sees_allocations() {
    // The denial path does allocate (the error names the function and codes): this
    // proves the counter above would have seen an allocation.
    let grant = Grant::application(["snsapi_base"]);
    let n = allocations_in(|| {
        let _ = grant.run(covered);
    });
    assert!(n > 0);
}
