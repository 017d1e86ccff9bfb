//! How the module runs in wasm: the allocator it brings and what a panic does. Nothing here runs natively.

/// lol_alloc's free list instead of Rust's default dlmalloc (or talc, used before): the module is downloaded on
/// a phone, and a page makes a handful of small allocations, for which a free list is enough; it measured 534 B
/// gzip smaller than talc, itself about half of dlmalloc. The `unsafe` is lol_alloc's contract for single-threaded
/// use, which wasm32 without the atomics feature is.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
#[allow(unsafe_code)]
// SAFETY: wasm32 without the atomics feature runs one thread, so nothing else can reach the allocator.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// Without std (the package's build), a panic traps: the module is built so that none happens (every export checks
/// its input and returns a typed error), and std's panic machinery with `core::fmt` would cost kilobytes a phone
/// downloads. Tests link std and get its messages.
#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
