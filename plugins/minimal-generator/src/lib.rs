//! A generator without the standard library: it imports nothing but its world's `log`, so an
//! instance is only its own memory. It proposes one indoor mission for the first slot. The
//! benchmark uses it to measure what the host's instantiate-and-call costs on its own.

#![no_std]

extern crate alloc;

wit_bindgen::generate!({
    world: "mission-generator",
    path: "../../wit/0.1.0",
});

use alloc::string::String;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use exports::weatherwise::plugins::generator::{Guest, UserContext};
use weatherwise::plugins::types::{Mission, WeatherSnapshot};

/// Bump allocation over a fixed arena: an instance lives for one call, so nothing is freed.
struct Arena {
    bytes: UnsafeCell<[u8; ARENA_BYTES]>,
    next: UnsafeCell<usize>,
}

const ARENA_BYTES: usize = 64 * 1024;

// One instance, one thread: wasm components are single-threaded.
unsafe impl Sync for Arena {}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; `next` only grows and stays within the arena.
        unsafe {
            let next = &mut *self.next.get();
            let start = (*next + layout.align() - 1) & !(layout.align() - 1);
            if start + layout.size() > ARENA_BYTES {
                return core::ptr::null_mut();
            }
            *next = start + layout.size();
            (self.bytes.get() as *mut u8).add(start)
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Arena = Arena { bytes: UnsafeCell::new([0; ARENA_BYTES]), next: UnsafeCell::new(0) };

/// The canonical ABI's allocator entry point, which the standard library would otherwise bring.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    if new_len == 0 {
        return align as *mut u8;
    }
    // SAFETY: `align` is a power of two given by the canonical ABI; the arena never frees.
    unsafe {
        let new = ALLOCATOR.alloc(Layout::from_size_align_unchecked(new_len, align));
        if !old.is_null() && !new.is_null() {
            core::ptr::copy_nonoverlapping(old, new, old_len.min(new_len));
        }
        if new.is_null() {
            core::arch::wasm32::unreachable()
        }
        new
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

struct Minimal;

impl Guest for Minimal {
    fn generate(weather: Vec<WeatherSnapshot>, _user: UserContext) -> Result<Vec<Mission>, String> {
        let Some(first) = weather.first() else { return Ok(Vec::new()) };
        let mut missions = Vec::with_capacity(1);
        missions.push(Mission {
            key: "bring-a-cup".into(),
            title: "Bring your own cup".into(),
            description: "Take your drink in a reusable cup today.".into(),
            points: 10,
            slot: first.slot,
            rubric: "Photo of a reusable cup with a drink.".into(),
            outdoor: false,
        });
        Ok(missions)
    }
}

export!(Minimal);
