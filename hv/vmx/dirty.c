/*
 * Dirty page logging (KVM_MEM_LOG_DIRTY_PAGES). A logged range is mapped without write
 * permission; the first write to a page sets its bit and gives the permission back. Fetching
 * the log takes the permission away again from the pages it reports.
 */
#include "../lib/errno.h"
#include "../platform/mm.h"
#include "vmx_vm.h"

#define DIRTY_MAX_PAGES (1ULL << 20) /* 4 GiB per range: a 128 KiB bitmap */

static uint64_t bitmap_bytes(uint64_t npages)
{
	return ALIGN_UP(npages, 64) / 8;
}

static struct dirty_range *find(struct vm *vm, uint64_t gpa, bool containing)
{
	for (unsigned i = 0; i < VM_MAX_DIRTY; i++) {
		struct dirty_range *d = &vm->dirty[i];
		if (d->bits && (containing ? gpa - d->gpa < d->npages * PAGE_SIZE : gpa == d->gpa))
			return d;
	}
	return NULL;
}

int vm_dirty_start(struct vm *vm, uint64_t gpa, uint64_t npages)
{
	struct dirty_range *d = NULL;
	uint64_t *bits;
	int rc = 0;

	if ((gpa & 0xfff) || !npages || npages > DIRTY_MAX_PAGES || gpa >= EPT_GPA_LIMIT)
		return -EINVAL;
	bits = mem_alloc(bitmap_bytes(npages));
	if (!bits)
		return -ENOMEM;
	spin_lock(&vm->lock);
	for (unsigned i = 0; i < VM_MAX_DIRTY; i++) /* every range for overlaps, the first free */
		if (vm->dirty[i].bits && gpa < vm->dirty[i].gpa + vm->dirty[i].npages * PAGE_SIZE &&
		    vm->dirty[i].gpa < gpa + npages * PAGE_SIZE)
			rc = -EEXIST;
		else if (!vm->dirty[i].bits && !d)
			d = &vm->dirty[i];
	if (!rc && !d)
		rc = -ENOSPC;
	if (!rc && (rc = ept_protect(&vm->ept, gpa, npages * PAGE_SIZE, EPT_R | EPT_X)))
		ept_protect(&vm->ept, gpa, npages * PAGE_SIZE, EPT_RWX); /* as mapped again */
	if (!rc)
		*d = (struct dirty_range){gpa, npages, bits};
	vm->ept_gen++;
	spin_unlock(&vm->lock);
	if (d && rc != -EEXIST) /* the protections changed: no write misses the log */
		vm_shootdown(vm);
	if (rc) /* nothing stays registered */
		mem_free(bits, bitmap_bytes(npages));
	return rc;
}

int vm_dirty_stop(struct vm *vm, uint64_t gpa)
{
	struct dirty_range *d;
	int rc = -ENOENT;

	spin_lock(&vm->lock);
	d = find(vm, gpa, false);
	if (d) {
		rc = ept_protect(&vm->ept, d->gpa, d->npages * PAGE_SIZE, EPT_RWX);
		mem_free(d->bits, bitmap_bytes(d->npages));
		*d = (struct dirty_range){0};
	}
	spin_unlock(&vm->lock);
	return rc;
}

/* Copies the range's bitmap (bytes must be its size) and write-protects what it reports. */
int vm_dirty_fetch(struct vm *vm, uint64_t gpa, uint64_t *out, uint64_t bytes)
{
	struct dirty_range *d;
	int rc = 0;

	spin_lock(&vm->lock);
	d = find(vm, gpa, false);
	if (!d || bytes != bitmap_bytes(d->npages))
		rc = d ? -EINVAL : -ENOENT;
	for (uint64_t w = 0; !rc && w < bytes / 8; w++) {
		uint64_t bits = d->bits[w];
		out[w] = bits;
		d->bits[w] = 0;
		for (unsigned b = 0; bits && b < 64 && !rc; b++)
			if (bits >> b & 1)
				rc = ept_protect(&vm->ept, d->gpa + (w * 64 + b) * PAGE_SIZE,
						 PAGE_SIZE, EPT_R | EPT_X);
	}
	vm->ept_gen++;
	spin_unlock(&vm->lock);
	vm_shootdown(vm); /* the next write to a reported page is logged again */
	return rc;
}

/*
 * A write the EPT refused: true when it was to a logged page, which is now writable. A page
 * mapped read-only stays so (ept_protect gives no more than the map did): not a logged write.
 */
bool dirty_write_fault(struct vm *vm, uint64_t gpa)
{
	struct dirty_range *d;
	struct ept_leaf leaf;
	bool logged = false;

	spin_lock(&vm->lock);
	d = find(vm, gpa, true);
	if (d && !ept_protect(&vm->ept, gpa & ~0xfffULL, PAGE_SIZE, EPT_RWX) &&
	    !ept_translate(&vm->ept, gpa, &leaf) && (leaf.prot & EPT_W)) {
		uint64_t page = (gpa - d->gpa) / PAGE_SIZE;
		d->bits[page / 64] |= 1ULL << (page % 64);
		logged = true;
	}
	spin_unlock(&vm->lock);
	return logged;
}

/* What is mapped into a logged range starts write-protected: its first write is logged. */
void dirty_protect_mapped(struct vm *vm, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < VM_MAX_DIRTY; i++) {
		struct dirty_range *d = &vm->dirty[i];
		uint64_t lo = MAX(gpa, d->gpa),
			 hi = MIN(gpa + size, d->gpa + d->npages * PAGE_SIZE);
		if (d->bits && lo < hi)
			ept_protect(&vm->ept, lo, hi - lo, EPT_R | EPT_X);
	}
}

void vm_dirty_free(struct vm *vm)
{
	for (unsigned i = 0; i < VM_MAX_DIRTY; i++)
		if (vm->dirty[i].bits)
			vm_dirty_stop(vm, vm->dirty[i].gpa);
}
