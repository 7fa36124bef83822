package disk

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which the
// syscall package does not name.
const madvPopulateWrite = 23

// hugeBlock returns n zero slots at the start of size bytes (a multiple
// of 2 MiB, so that the kernel aligns the mapping to one) of fresh
// anonymous memory outside the Go heap, which the kernel is asked to back
// with 2 MiB pages (madvise MADV_HUGEPAGE; transparent huge pages
// "madvise" or "always"), and the mapping to unmap; nil, nil when mmap
// fails. Outside the heap because the runtime clears a large allocation
// it reuses, which would fault it in 4 KiB pages before the advice.
// Without huge pages the block faults in 4 KiB pages as a heap one does.
func hugeBlock(n, size int) ([]recSlot, []byte) {
	m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil
	}
	_ = syscall.Madvise(m, syscall.MADV_HUGEPAGE)
	return unsafe.Slice((*recSlot)(unsafe.Pointer(&m[0])), n), m
}

// populate faults m in, writable, without writing to it. Best effort: a
// kernel before 5.14 refuses, and the slots fault when first written. A
// block unmapped meanwhile makes it fail, harmlessly.
func populate(m []byte) { _ = syscall.Madvise(m, madvPopulateWrite) }

func unmapBlock(m []byte) { _ = syscall.Munmap(m) }
