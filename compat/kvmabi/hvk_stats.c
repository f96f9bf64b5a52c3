// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_GET_STATS_FD: KVM's binary statistics layout (header, id, descriptors, data), with the
 * hypervisor's exit counters of a vCPU, and their sums over the VM's vCPUs for the VM.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvk.h"

#define NAME_SIZE 48 /* KVM_STATS_NAME_SIZE: the name field of each descriptor */

/* the hypervisor's counters, then this module's (struct hvk_vcpu's pf) */
#define STAT_COUNT (HV_STAT_COUNT + 2)

static const char *const stat_names[STAT_COUNT] = {
	[HV_STAT_EXITS] = "exits",	       [HV_STAT_IO_EXITS] = "io_exits",
	[HV_STAT_MMIO_EXITS] = "mmio_exits",   [HV_STAT_HLT_EXITS] = "halt_exits",
	[HV_STAT_CPUID_EXITS] = "cpuid_exits", [HV_STAT_MSR_EXITS] = "msr_exits",
	[HV_STAT_IRQ_EXITS] = "irq_exits",     [HV_STAT_EPT_EXITS] = "ept_exits",
	[HV_STAT_COUNT] = "pf_taken",	       [HV_STAT_COUNT + 1] = "pf_fixed",
};

struct hvk_stats {
	struct hvk_vm *vm;
	struct hvk_vcpu *vc; /* NULL: the VM's sums */
	char id[NAME_SIZE];
};

#define DESC_SIZE (sizeof(struct kvm_stats_desc) + NAME_SIZE)
#define DESC_OFF  (sizeof(struct kvm_stats_header) + NAME_SIZE)
#define DATA_OFF  (DESC_OFF + STAT_COUNT * DESC_SIZE)
#define FILE_SIZE (DATA_OFF + STAT_COUNT * sizeof(u64))

static long counters(struct hvk_vcpu *vc, u64 *out)
{
	u64 *buf = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!buf)
		return -ENOMEM;
	rc = hv_call(HC_VCPU_STATS, vc->vm->handle, vc->id, virt_to_phys(buf), HV_STAT_COUNT, 0);
	if (rc == HV_STAT_COUNT)
		memcpy(out, buf, HV_STAT_COUNT * sizeof(u64));
	memcpy(out + HV_STAT_COUNT, vc->pf, sizeof(vc->pf));
	hvk_buf_free(buf, PAGE_SIZE);
	return rc == HV_STAT_COUNT ? 0 : -EIO;
}

/* The values now: one vCPU's, or the sum over the VM's vCPUs. */
static long values(struct hvk_stats *st, u64 *out)
{
	u64 one[STAT_COUNT];
	unsigned int i, k;
	long rc = 0;

	if (st->vc)
		return counters(st->vc, out);
	memset(out, 0, STAT_COUNT * sizeof(u64));
	mutex_lock(&st->vm->lock);
	for (i = 0; i < HVK_MAX_VCPUS && !rc; i++) {
		if (!st->vm->vcpus[i])
			continue;
		rc = counters(st->vm->vcpus[i], one);
		for (k = 0; k < STAT_COUNT; k++)
			out[k] += one[k];
	}
	mutex_unlock(&st->vm->lock);
	return rc;
}

static void layout(struct hvk_stats *st, u8 *file)
{
	struct kvm_stats_header *h = (void *)file;
	unsigned int i;

	*h = (struct kvm_stats_header){ .name_size = NAME_SIZE, .num_desc = STAT_COUNT,
					.id_offset = sizeof(*h), .desc_offset = DESC_OFF,
					.data_offset = DATA_OFF };
	strscpy(file + sizeof(*h), st->id, NAME_SIZE);
	for (i = 0; i < STAT_COUNT; i++) {
		struct kvm_stats_desc *d = (void *)(file + DESC_OFF + i * DESC_SIZE);

		d->flags = KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10;
		d->size = 1;
		d->offset = i * sizeof(u64);
		strscpy(d->name, stat_names[i], NAME_SIZE);
	}
}

static ssize_t stats_read(struct file *f, char __user *ubuf, size_t size, loff_t *pos)
{
	struct hvk_stats *st = f->private_data;
	u8 *file = kzalloc(FILE_SIZE, GFP_KERNEL);
	ssize_t rc;

	if (!file)
		return -ENOMEM;
	layout(st, file);
	rc = values(st, (u64 *)(file + DATA_OFF));
	if (!rc)
		rc = simple_read_from_buffer(ubuf, size, pos, file, FILE_SIZE);
	kfree(file);
	return rc;
}

static int stats_release(struct inode *inode, struct file *f)
{
	struct hvk_stats *st = f->private_data;

	hvk_vm_put(st->vm);
	kfree(st);
	return 0;
}

static const struct file_operations stats_fops = {
	.owner = THIS_MODULE,
	.read = stats_read,
	.release = stats_release,
	.llseek = noop_llseek,
};

/* The fd is readable with read() and pread(), as KVM's. */
static long stats_fd(struct hvk_vm *vm, struct hvk_vcpu *vc)
{
	struct hvk_stats *st = kzalloc(sizeof(*st), GFP_KERNEL);
	struct file *f;
	int fd;

	if (!st)
		return -ENOMEM;
	st->vm = vm;
	st->vc = vc;
	if (vc)
		snprintf(st->id, NAME_SIZE, "kvm-%d/vcpu-%u", task_pid_nr(current), vc->id);
	else
		snprintf(st->id, NAME_SIZE, "kvm-%d", task_pid_nr(current));
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		kfree(st);
		return fd;
	}
	f = anon_inode_getfile("kvm-stats", &stats_fops, st, O_RDONLY);
	if (IS_ERR(f)) {
		put_unused_fd(fd);
		kfree(st);
		return PTR_ERR(f);
	}
	f->f_mode |= FMODE_PREAD;
	kref_get(&vm->ref);
	fd_install(fd, f);
	return fd;
}

long hvk_vm_stats_fd(struct hvk_vm *vm)
{
	return stats_fd(vm, NULL);
}

long hvk_vcpu_stats_fd(struct hvk_vcpu *vc)
{
	return stats_fd(vc->vm, vc);
}
