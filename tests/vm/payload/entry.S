/* SPDX-License-Identifier: GPL-2.0-only */
/* Multiboot entry: a stack, then payload_main(magic, info). */
	.section .text
	.globl _start
_start:
	movl	$stack_top, %esp
	pushl	%ebx
	pushl	%eax
	call	payload_main
1:	hlt
	jmp	1b

	.section .bss
	.align	16
	.skip	16384
stack_top:
