// SPDX-License-Identifier: GPL-2.0

//! The few socket calls std has no API for (raw sockets, binding a TCP
//! socket before it connects, SO_LINGER), declared straight from the C
//! library the binary links statically. The constants are Linux's, the same
//! on x86_64 and arm64 (asm-generic socket options).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_void};
use std::time::Duration;

pub const AF_INET: c_int = 2;
pub const AF_INET6: c_int = 10;
pub const SOCK_STREAM: c_int = 1;
pub const SOCK_RAW: c_int = 3;
const SOCK_CLOEXEC: c_int = 0o2000000;

pub const IPPROTO_IP: c_int = 0;
pub const IPPROTO_ICMP: c_int = 1;
pub const IPPROTO_TCP: c_int = 6;
pub const IPPROTO_IPV6: c_int = 41;
pub const IPPROTO_ICMPV6: c_int = 58;
pub const IPPROTO_RAW: c_int = 255;

const SOL_SOCKET: c_int = 1;
const SO_REUSEADDR: c_int = 2;
const SO_LINGER: c_int = 13;
const SO_SNDTIMEO: c_int = 21; // SO_SNDTIMEO_OLD: a struct timeval of longs
pub const IP_HDRINCL: c_int = 3;
pub const IPV6_FREEBIND: c_int = 78;

type SockLen = u32;

extern "C" {
    fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    fn setsockopt(
        fd: c_int,
        level: c_int,
        name: c_int,
        value: *const c_void,
        len: SockLen,
    ) -> c_int;
    fn bind(fd: c_int, addr: *const c_void, len: SockLen) -> c_int;
    fn connect(fd: c_int, addr: *const c_void, len: SockLen) -> c_int;
    fn sendto(
        fd: c_int,
        buf: *const c_void,
        len: usize,
        flags: c_int,
        addr: *const c_void,
        alen: SockLen,
    ) -> isize;
}

/// `struct sockaddr_in`.
#[repr(C)]
struct SockaddrIn {
    family: u16,
    port: [u8; 2],
    addr: [u8; 4],
    zero: [u8; 8],
}

/// `struct sockaddr_in6`.
#[repr(C)]
struct SockaddrIn6 {
    family: u16,
    port: [u8; 2],
    flowinfo: u32,
    addr: [u8; 16],
    scope_id: u32,
}

/// A socket address in the C layout.
enum CAddr {
    V4(SockaddrIn),
    V6(SockaddrIn6),
}

impl CAddr {
    fn new(addr: SocketAddr) -> CAddr {
        let port = addr.port().to_be_bytes();
        match addr.ip() {
            IpAddr::V4(a) => CAddr::V4(SockaddrIn {
                family: AF_INET as u16,
                port,
                addr: a.octets(),
                zero: [0; 8],
            }),
            IpAddr::V6(a) => CAddr::V6(SockaddrIn6 {
                family: AF_INET6 as u16,
                port,
                flowinfo: 0,
                addr: a.octets(),
                scope_id: 0,
            }),
        }
    }

    /// Pointer and length for the C calls; valid while `self` lives.
    fn raw(&self) -> (*const c_void, SockLen) {
        match self {
            CAddr::V4(a) => (
                (a as *const SockaddrIn).cast(),
                size_of::<SockaddrIn>() as SockLen,
            ),
            CAddr::V6(a) => (
                (a as *const SockaddrIn6).cast(),
                size_of::<SockaddrIn6>() as SockLen,
            ),
        }
    }
}

fn family(ip: IpAddr) -> c_int {
    match ip {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// A new socket, closed when the returned value is dropped.
pub fn new_socket(domain: c_int, ty: c_int, protocol: c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket() takes no pointers; any argument values are allowed.
    let fd = unsafe { socket(domain, ty | SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket() and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// setsockopt() with a value of any plain C type.
fn set_opt<T>(fd: &OwnedFd, level: c_int, name: c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of `size_of::<T>()` bytes for the
    // duration of the call; the kernel only reads it.
    let rc = unsafe {
        setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as SockLen,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets an integer socket option.
pub fn set_int(fd: &OwnedFd, level: c_int, name: c_int, value: c_int) -> io::Result<()> {
    set_opt(fd, level, name, &value)
}

/// Binds `fd` to `addr`.
pub fn bind_to(fd: &OwnedFd, addr: SocketAddr) -> io::Result<()> {
    let c = CAddr::new(addr);
    let (ptr, len) = c.raw();
    // SAFETY: `ptr` points to a sockaddr of `len` bytes that outlives the call.
    if unsafe { bind(fd.as_raw_fd(), ptr, len) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `buf` as one datagram (or raw packet) to `dest`.
pub fn send_to(fd: &OwnedFd, buf: &[u8], dest: SocketAddr) -> io::Result<usize> {
    let c = CAddr::new(dest);
    let (ptr, len) = c.raw();
    // SAFETY: `buf` is valid for `buf.len()` bytes and `ptr` for `len` bytes
    // during the call; sendto() only reads both.
    let n = unsafe { sendto(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0, ptr, len) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// A TCP connection to `dest` from local port `sport` (SO_REUSEADDR set, so
/// a port left in TIME_WAIT by an earlier run can be reused); the connect
/// gives up after `timeout`.
pub fn tcp_connect_from(dest: SocketAddr, sport: u16, timeout: Duration) -> io::Result<OwnedFd> {
    let ip = dest.ip();
    let fd = new_socket(family(ip), SOCK_STREAM, 0)?;
    set_int(&fd, SOL_SOCKET, SO_REUSEADDR, 1)?;
    // Linux applies SO_SNDTIMEO to a blocking connect().
    let tv: [std::os::raw::c_long; 2] = [timeout.as_secs() as _, timeout.subsec_micros() as _];
    set_opt(&fd, SOL_SOCKET, SO_SNDTIMEO, &tv)?;
    let any = match ip {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    };
    bind_to(&fd, SocketAddr::new(any, sport))?;
    let c = CAddr::new(dest);
    let (ptr, len) = c.raw();
    // SAFETY: `ptr` points to a sockaddr of `len` bytes that outlives the call.
    if unsafe { connect(fd.as_raw_fd(), ptr, len) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// SO_LINGER {on, 0 s}: the close that follows resets the connection (the
/// kernel sends a RST carrying the next sequence number) instead of a FIN.
pub fn set_linger_abort(fd: &OwnedFd) -> io::Result<()> {
    // struct linger { int l_onoff; int l_linger; }
    let linger: [c_int; 2] = [1, 0];
    set_opt(fd, SOL_SOCKET, SO_LINGER, &linger)
}

extern "C" {
    fn getsockopt(
        fd: c_int,
        level: c_int,
        name: c_int,
        value: *mut c_void,
        len: *mut SockLen,
    ) -> c_int;
    fn capget(hdr: *mut CapHeader, data: *mut CapData) -> c_int;
    fn capset(hdr: *mut CapHeader, data: *const CapData) -> c_int;
    fn prctl(option: c_int, arg2: std::os::raw::c_ulong, ...) -> c_int;
}

/// getsockopt() into `buf` (in/out: the kernel reads the request from it
/// and writes the answer); returns the length the kernel reported.
pub fn get_opt_bytes(fd: &OwnedFd, level: c_int, name: c_int, buf: &mut [u8]) -> io::Result<usize> {
    let mut len =
        SockLen::try_from(buf.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `buf` is valid for writes of `len` bytes and `len` is a live
    // SockLen, both for the duration of the call.
    let rc = unsafe {
        getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(len as usize)
}

/// setsockopt() with `buf` as the option value.
pub fn set_opt_bytes(fd: &OwnedFd, level: c_int, name: c_int, buf: &[u8]) -> io::Result<()> {
    let len =
        SockLen::try_from(buf.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `buf` is valid for reads of `len` bytes during the call.
    let rc = unsafe { setsockopt(fd.as_raw_fd(), level, name, buf.as_ptr().cast(), len) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

/// `struct __user_cap_data_struct`; version 3 takes two of them (caps 0-31
/// and 32-63).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const PR_CAPBSET_DROP: c_int = 24;
const PR_CAP_AMBIENT: c_int = 47;
const PR_CAP_AMBIENT_LOWER: std::os::raw::c_ulong = 3;

/// Removes capability `cap` (below 32, e.g. CAP_NET_ADMIN = 12) from this
/// process for good: from the bounding and ambient sets, so that an exec
/// (even of a root-owned program by uid 0) cannot regain it, and from the
/// effective, permitted and inheritable sets.
pub fn drop_capability(cap: u32) -> io::Result<()> {
    if cap >= 32 {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let c = std::os::raw::c_ulong::from(cap);
    // SAFETY: prctl with integer arguments only; no memory is passed.
    if unsafe {
        prctl(
            PR_CAPBSET_DROP,
            c,
            0 as std::os::raw::c_ulong,
            0 as std::os::raw::c_ulong,
            0 as std::os::raw::c_ulong,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    // Ambient capabilities may be unsupported; a failure there is harmless
    // because the ambient set is a subset of permitted and inheritable.
    // SAFETY: as above.
    unsafe {
        prctl(
            PR_CAP_AMBIENT,
            PR_CAP_AMBIENT_LOWER,
            c,
            0 as std::os::raw::c_ulong,
            0 as std::os::raw::c_ulong,
        )
    };
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: `hdr` and the two-element `data` array are the layout capget
    // expects for version 3, and live for the call.
    if unsafe { capget(&mut hdr, data.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let bit = !(1u32 << cap);
    data[0].effective &= bit;
    data[0].permitted &= bit;
    data[0].inheritable &= bit;
    // SAFETY: as for capget; capset only reads `data`.
    if unsafe { capset(&mut hdr, data.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

extern "C" {
    fn setgroups(size: usize, list: *const u32) -> c_int;
    fn setresgid(r: u32, e: u32, s: u32) -> c_int;
    fn setresuid(r: u32, e: u32, s: u32) -> c_int;
    fn unshare(flags: c_int) -> c_int;
    fn geteuid() -> u32;
    fn getegid() -> u32;
}

/// `CLONE_NEWUSER`.
pub const CLONE_NEWUSER: c_int = 0x1000_0000;
/// `CLONE_NEWNET`.
pub const CLONE_NEWNET: c_int = 0x4000_0000;

/// Becomes user `uid`, group `gid`, with no supplementary groups (real,
/// effective and saved ids alike): from root, this clears every
/// capability, as for any process that leaves uid 0 without keepcaps.
pub fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: an empty list; the pointer is not read when the size is 0.
    if unsafe { setgroups(0, std::ptr::null()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: integer arguments only.
    if unsafe { setresgid(gid, gid, gid) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: integer arguments only.
    if unsafe { setresuid(uid, uid, uid) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// unshare(2) with `flags` (`CLONE_NEWUSER`, `CLONE_NEWNET`).
pub fn unshare_ns(flags: c_int) -> io::Result<()> {
    // SAFETY: integer argument only.
    if unsafe { unshare(flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid() cannot fail and takes no arguments.
    unsafe { geteuid() }
}

/// The effective group id.
pub fn egid() -> u32 {
    // SAFETY: getegid() cannot fail and takes no arguments.
    unsafe { getegid() }
}

const PR_SET_DUMPABLE: c_int = 4;

/// prctl(PR_SET_DUMPABLE, 1): a process that changed its ids is made
/// non-dumpable, which gives its /proc/self files to root; a process that
/// then writes its own uid_map (after unshare(CLONE_NEWUSER)) needs them
/// back, as an exec would give them.
pub fn set_dumpable() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only; no memory is passed.
    if unsafe {
        prctl(
            PR_SET_DUMPABLE,
            1 as std::os::raw::c_ulong,
            0 as std::os::raw::c_ulong,
            0 as std::os::raw::c_ulong,
            0 as std::os::raw::c_ulong,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
