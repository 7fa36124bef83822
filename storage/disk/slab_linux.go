package disk

import (
	"syscall"
	"unsafe"
)

// hugeBlock returns n zero slots in fresh anonymous memory outside the Go
// heap, which the kernel is asked to back with 2 MiB pages (madvise
// MADV_HUGEPAGE; transparent huge pages "madvise" or "always"), and the
// mapping to unmap; nil, nil when mmap fails. Outside the heap because
// the runtime clears a large allocation it reuses, which would fault it
// in 4 KiB pages before the advice. Without huge pages the block faults
// in 4 KiB pages as a heap one does.
func hugeBlock(n int) ([]recSlot, []byte) {
	m, err := syscall.Mmap(-1, 0, n*int(unsafe.Sizeof(recSlot{})), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil
	}
	_ = syscall.Madvise(m, syscall.MADV_HUGEPAGE)
	return unsafe.Slice((*recSlot)(unsafe.Pointer(&m[0])), n), m
}

func unmapBlock(m []byte) { _ = syscall.Munmap(m) }
