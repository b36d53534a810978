// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest of the vmm-* cases and make demo-vm: a multiboot (v1) payload
 * for QEMU's -kernel that keeps visible running state in its RAM. At boot
 * it fills its RAM past 4 MiB with a pattern seeded by its boot number,
 * then counts: every tick it checks one 64 KiB chunk of the pattern,
 * moving round the whole of RAM, and prints to COM1
 *
 *   vmm-payload: boot B tick N chunk C ok
 *
 * A guest that resumes after its host's kexec goes on from tick N + 1 with
 * the same boot number and pattern; one whose RAM was lost cannot resume,
 * and one whose RAM came back wrong prints "BAD" and stops.
 *
 * Freestanding, 32-bit, no libc: built with gcc -m32 -ffreestanding.
 */

#define MB_MAGIC	0x1badb002u
#define MB_FLAGS	0x00000003u	/* page-aligned modules, memory info */
#define COM1		0x3f8
#define BASE		0x00400000u	/* the pattern starts here; the payload is below */
#define CHUNK		0x10000u

typedef unsigned int u32;
typedef unsigned char u8;

struct mb_info {
	u32 flags, mem_lower, mem_upper;
};

__attribute__((section(".multiboot"), used, aligned(4)))
static const u32 mb_header[3] = { MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS) };

/* Lives in RAM with everything else: it resumes with the guest. */
static volatile u32 boot_no = 0x5eed;
static volatile u32 ticks;

static inline void outb(unsigned short port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(unsigned short port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putu(u32 v)
{
	char b[11];
	int i = 10;

	b[i] = 0;
	do {
		b[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	puts(b + i);
}

/* The word at @addr for boot @seed: any change to RAM shows. */
static u32 pattern(u32 addr, u32 seed)
{
	u32 x = addr ^ (seed * 0x9e3779b9u);

	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	return x;
}

static void pause(void)
{
	volatile u32 i;

	for (i = 0; i < 2000000; i++)
		;
}

void payload_main(u32 magic, const struct mb_info *mbi);

void payload_main(u32 magic, const struct mb_info *mbi)
{
	u32 top, a, chunk, nchunks;

	/* mem_upper: KiB above 1 MiB. */
	top = (magic == 0x2badb002u && (mbi->flags & 1)) ? 0x100000u + mbi->mem_upper * 1024 : 0;
	top &= ~(CHUNK - 1);
	if (top <= BASE + CHUNK) {
		puts("vmm-payload: no memory information\n");
		for (;;)
			__asm__ volatile("hlt");
	}
	nchunks = (top - BASE) / CHUNK;
	/* A different seed each cold boot: the RAM written by this one. */
	boot_no = boot_no * 1103515245u + 12345u + inb(0x40);
	for (a = BASE; a < top; a += 4)
		*(volatile u32 *)a = pattern(a, boot_no);
	puts("vmm-payload: boot ");
	putu(boot_no);
	puts(" ram ");
	putu((top - BASE) >> 20);
	puts(" MiB patterned\n");
	for (;;) {
		ticks++;
		chunk = ticks % nchunks;
		for (a = BASE + chunk * CHUNK; a < BASE + (chunk + 1) * CHUNK; a += 4) {
			if (*(volatile u32 *)a != pattern(a, boot_no)) {
				puts("vmm-payload: BAD at ");
				putu(a);
				puts("\n");
				for (;;)
					__asm__ volatile("hlt");
			}
		}
		puts("vmm-payload: boot ");
		putu(boot_no);
		puts(" tick ");
		putu(ticks);
		puts(" chunk ");
		putu(chunk);
		puts(" ok\n");
		pause();
	}
}
