import CLibUV

/// The lifetime rule of every handle in this module (libuv's own): the
/// owner object is retained through `handle->data` while the handle is open,
/// and the retain and the handle's memory are released only in the close
/// callback, after libuv is done with both.
enum HandleLifetime {
    static func attach<Handle>(_ owner: AnyObject, to handle: UnsafeMutablePointer<Handle>) {
        handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) {
            $0.pointee.data = Unmanaged.passRetained(owner).toOpaque()
        }
    }

    static func owner<Owner: AnyObject>(_: Owner.Type, of handle: UnsafeMutableRawPointer?) -> Owner {
        let base = handle!.assumingMemoryBound(to: uv_handle_t.self)
        return Unmanaged<Owner>.fromOpaque(base.pointee.data).takeUnretainedValue()
    }

    /// Closes the handle; its memory and the owner's retain go in the callback.
    static func close<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { base in
            guard uv_is_closing(base) == 0 else { return }
            uv_close(base) { closed in
                guard let closed else { return }
                if let data = closed.pointee.data {
                    Unmanaged<AnyObject>.fromOpaque(data).release()
                }
                UnsafeMutableRawPointer(closed).deallocate()
            }
        }
    }

    /// For a handle whose init failed: nothing was attached, free it now.
    static func discard<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        handle.deallocate()
    }
}
