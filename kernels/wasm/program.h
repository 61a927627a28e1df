/* Shared by the opcode-stream interpreter (program.c) and its elementwise records
 * (elementwise.c): dtype codes, reading addresses and float operands from a record. */
#ifndef WASMDL_PROGRAM_H
#define WASMDL_PROGRAM_H

#include "common.h"

typedef unsigned char u8;
typedef unsigned long long u64;

enum { DT_F32 = 0, DT_I32 = 1, DT_U8 = 2 };

/* OP_EW and OP_FILL records (elementwise.c), given the record's operand words */
void ew_record(const i32 *r);
void fill_record(const i32 *r);

#define PTR(T, w) ((T *)(__SIZE_TYPE__)(unsigned)(w))

INLINE f32 bits_f32(i32 w) {
  union { i32 i; f32 f; } u = {w};
  return u.f;
}

INLINE double rd64(const i32 *p) {
  union { u64 u; double d; } v = {(u64)(unsigned)p[0] | ((u64)(unsigned)p[1] << 32)};
  return v.d;
}

INLINE f32 lane0(v128_t v) { return wasm_f32x4_extract_lane(v, 0); }

/* float -> int32 as numpy on the CPU: truncation (saturating here, NaN gives 0; a plain C
 * cast would trap out of range) */
INLINE i32 f2i(f32 v) {
  return wasm_i32x4_extract_lane(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_splat(v)), 0);
}


#endif
