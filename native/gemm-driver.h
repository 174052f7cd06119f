// The blocked GEMM, written once over a vector type `T` (see gemm-avx2.cc, gemm-neon.cc, gemm-generic.cc), each of
// which includes this file inside an anonymous namespace (and, for AVX2, under a target pragma), so every code path
// gets its own copy compiled for its instruction set.
//
// T provides: V (a vector of W floats), W, MR (rows of the register tile), NRV (vectors per tile row; NR = NRV·W
// columns), KC (deepest K block), MC (rows of a packed A block, a multiple of MR), NC (columns of a packed B block, a
// multiple of NR), and zero(), load(p), store(p, v), broadcast(p), fma(a, b, c) = a·b + c rounded once, add, mul, abs,
// splat(x), transposeBlock(src, ld, dst, ldd) (the W×W block of rows src + r·ld written as rows dst + c·ldd), and
// kPackRows / packRows(src, ld, kb, dst) (a faster packA of a full strip with contiguous rows, where kPackRows).
//
// Arithmetic: every element of C is reduced by fma in increasing k, starting from C (accumulate, or a K block after the
// first: partial sums are stored as f32, exactly) or from +0, then gets the epilogue — see gemm-call.h. Blocking, tile
// shape, packing and the transposed path below change which element is computed when, never how.
//
// Memory: reads A, B (and bias) inside the extents the caller validated, writes C only inside [row0,row1)×[col0,col1)
// and the scratch. Edge tiles run the same micro-kernel on the scratch tile and copy the valid part in and out — or,
// where T has masked vector memory access (kMaskedEdges: Mask, mask(n), loadMasked(p, m), storeMasked(p, v, m), whose
// masked-off lanes are neither read nor written), run it on C in place with C and bias accessed under masks. Such a T
// also gives A_DIRECT_COLS: blocks of at most that many columns read a row-major A in place instead of packing it.

// Whether T has masked edges (a T without the member has not).
template <class U, class = void>
struct MaskedEdges {
  static constexpr bool value = false;
  using Mask = int;
};
template <class U>
struct MaskedEdges<U, std::void_t<decltype(U::kMaskedEdges)>> {
  static constexpr bool value = U::kMaskedEdges;
  using Mask = typename U::Mask;
};

// A problem in "core" coordinates: C(i,j) at c[i·rsc + j·csc] (+)= Σk A(i,k)·B(k,j), A(i,k) at a[i·rsa + k·csa],
// B(k,j) at b[k·rsb + j·csb]; the block rows [i0,i1) and columns [j0,j1). The engine's C(M,N) is either the core's C
// (rsc = N, csc = 1) or, for narrow C, its transpose (the core computes Cᵀ = op(B)ᵀ·op(A)ᵀ; rsc = 1, csc = N).
struct Core {
  const float* a;
  ptrdiff_t rsa, csa;
  const float* b;
  ptrdiff_t rsb, csb;
  float* c;
  ptrdiff_t rsc, csc;
  int K;
  bool accumulate;
  int epi;
  const float* bias;
  bool biasOnRows;  // the bias follows the core's rows (transposed path) rather than its columns
  int i0, i1, j0, j1;
};

template <class T>
struct Driver {
  using V = typename T::V;
  static constexpr int W = T::W, MR = T::MR, NRV = T::NRV, NR = NRV * W;
  static constexpr int KC = T::KC, MC = T::MC, NC = T::NC;
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks are whole tiles");
  static_assert((static_cast<size_t>(KC) * NC + static_cast<size_t>(MC) * KC + MR * NR + NR) * 4 + 64 <= trainyard::kScratchBytes,
                "scratch fits kScratchBytes");

  /** Rows of a block at most this many read full B panels in place (row-major B) instead of packing them. */
  static constexpr int kDirectRows = T::DIRECT_ROWS;

  /** Columns of a block at most this many read A in place (T with masked edges: A_DIRECT_COLS) instead of packing it. */
  static constexpr int aDirectCols() {
    if constexpr (MaskedEdges<T>::value) return T::A_DIRECT_COLS;
    else return -1;
  }
  static constexpr int kADirectCols = aDirectCols();

  static inline float epilogue1(int epi, float v, float bias) {
    if (epi == trainyard::kEpiNone) return v;
    const float s = v + bias;
    if (epi == trainyard::kEpiBias) return s;
    return (s + std::fabs(s)) * 0.5f;
  }

  static inline V epilogueV(int epi, V v, V bias) {
    const V s = T::add(v, bias);
    if (epi == trainyard::kEpiBias) return s;
    return T::mul(T::add(s, T::abs(s)), T::splat(0.5f));
  }

  // The micro-kernel: the R × NR tile at c (rows ldc floats apart) (+)= Ap·Bp over kb steps of k, R ≤ MR. Ap: kb rows
  // of MR floats (a packed A strip, of which the first R are used); Bp: kb rows of NR floats, ldb apart (a packed panel,
  // ldb = NR, or B in place). `load`: start from the tile's values, else from +0. `bias` (NR floats, for the tile's
  // columns) when epi != none.
  //
  // Masked (T with masked edges only): only the first nr ≤ NR columns of the tile's C and bias are read and written
  // (the rest of the lanes compute on the panel's zero padding and are dropped).
  static constexpr bool kMasked = MaskedEdges<T>::value;
  using Mask = typename MaskedEdges<T>::Mask;

  template <bool Masked>
  static inline V loadC(const float* p, Mask m) {
    if constexpr (Masked) return T::loadMasked(p, m);
    else return T::load(p);
  }
  template <bool Masked>
  static inline void storeC(float* p, V v, Mask m) {
    if constexpr (Masked) T::storeMasked(p, v, m);
    else T::store(p, v);
  }

  //
  // ADirect (T with masked edges only): A read in place, row r of the strip at pa + r·lda, k contiguous, instead of
  // from a packed strip.
  template <int R = MR, bool Masked = false, int NV = NRV, bool ADirect = false>
  static inline void micro(int kb, const float* __restrict pa, const float* __restrict pb, ptrdiff_t ldb,
                           float* __restrict c, ptrdiff_t ldc, bool load, int epi, const float* __restrict bias, int nr = NR,
                           ptrdiff_t lda = 0) {
    Mask masks[NV] = {};
    if constexpr (Masked) {
      for (int v = 0; v < NV; ++v) masks[v] = T::mask(std::max(0, std::min(W, nr - v * W)));
    } else {
      (void)nr;
    }
    V acc[R][NV];
    if (load) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = loadC<Masked>(c + r * ldc + v * W, masks[v]);
    } else {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = T::zero();
    }
#pragma GCC unroll 4
    for (int k = 0; k < kb; ++k) {
      V bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = T::load(pb + v * W);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const V av = T::broadcast(ADirect ? pa + r * lda : pa + r);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = T::fma(av, bv[v], acc[r][v]);
      }
      pa += ADirect ? 1 : MR;
      pb += ldb;
    }
    if (epi != trainyard::kEpiNone) {
      V bias_v[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bias_v[v] = loadC<Masked>(bias + v * W, masks[v]);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = epilogueV(epi, acc[r][v], bias_v[v]);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) storeC<Masked>(c + r * ldc + v * W, acc[r][v], masks[v]);
  }

  // micro<R, masked, NV> for a tile of mr ≤ MR rows and nr ≤ NR columns straight on C (T with masked edges): only the
  // mr rows and the NV = ⌈nr / W⌉ vectors that hold valid columns are computed.
  template <bool ADirect, int R = MR, int NV = NRV>
  static inline void microEdge(int mr, int nr, int kb, const float* pa, ptrdiff_t lda, const float* pb, ptrdiff_t ldb, float* c,
                               ptrdiff_t ldc, bool load, int epi, const float* bias) {
    if constexpr (R > 1) {
      if (mr < R) {
        microEdge<ADirect, R - 1, NV>(mr, nr, kb, pa, lda, pb, ldb, c, ldc, load, epi, bias);
        return;
      }
    }
    if constexpr (NV > 1) {
      if (nr <= (NV - 1) * W) {
        microEdge<ADirect, R, NV - 1>(mr, nr, kb, pa, lda, pb, ldb, c, ldc, load, epi, bias);
        return;
      }
    }
    micro<R, true, NV, ADirect>(kb, pa, pb, ldb, c, ldc, load, epi, bias, nr, lda);
  }

  // micro<R> for the R = mr rows that count (a short strip computes only its own rows), no epilogue.
  template <int R = MR>
  static inline void microRows(int mr, int kb, const float* pa, const float* pb, ptrdiff_t ldb, float* c, ptrdiff_t ldc, bool load) {
    if constexpr (R > 1) {
      if (mr < R) {
        microRows<R - 1>(mr, kb, pa, pb, ldb, c, ldc, load);
        return;
      }
    }
    micro<R>(kb, pa, pb, ldb, c, ldc, load, trainyard::kEpiNone, nullptr);
  }

  // Packs B(pc:pc+kb, jc:jc+nc) as NR-column panels (panel p: kb rows of NR floats at dst + p·kb·NR), zero-padding the
  // last panel's missing columns.
  static void packB(const Core& p, int pc, int kb, int jc, int nc, float* __restrict dst) {
    for (int j0 = 0; j0 < nc; j0 += NR, dst += static_cast<ptrdiff_t>(kb) * NR) {
      const int nr = std::min(NR, nc - j0);
      const float* src = p.b + static_cast<ptrdiff_t>(pc) * p.rsb + static_cast<ptrdiff_t>(jc + j0) * p.csb;
      packPanel(src, p.rsb, p.csb, kb, nr, dst);
    }
  }

  static void packPanel(const float* __restrict src, ptrdiff_t rsb, ptrdiff_t csb, int kb, int nr, float* __restrict dst) {
    if (csb == 1 && nr == NR) {
      for (int k = 0; k < kb; ++k) {
#pragma GCC unroll 4
        for (int v = 0; v < NRV; ++v) T::store(dst + k * NR + v * W, T::load(src + k * rsb + v * W));
      }
    } else if (csb == 1) {
      for (int k = 0; k < kb; ++k) {
        for (int j = 0; j < nr; ++j) dst[k * NR + j] = src[k * rsb + j];
        for (int j = nr; j < NR; ++j) dst[k * NR + j] = 0.0f;
      }
    } else if (rsb == 1) {
      // Each column contiguous along k (form NT's B, or the transposed path's op(A)ᵀ): W×W blocks transposed in
      // registers, the rest element by element.
      const int kFull = (kb / W) * W, jFull = (nr / W) * W;
      for (int j = 0; j < jFull; j += W)
        for (int k = 0; k < kFull; k += W) T::transposeBlock(src + j * csb + k, csb, dst + k * NR + j, NR);
      for (int j = 0; j < nr; ++j) {
        const float* col = src + j * csb;
        for (int k = j < jFull ? kFull : 0; k < kb; ++k) dst[k * NR + j] = col[k];
      }
      for (int k = 0; k < kb; ++k)
        for (int j = nr; j < NR; ++j) dst[k * NR + j] = 0.0f;
    } else {
      // Columns strided both ways (not produced by the engine's forms): element by element.
      for (int j = 0; j < nr; ++j) {
        const float* col = src + j * csb;
        for (int k = 0; k < kb; ++k) dst[k * NR + j] = col[k * rsb];
      }
      for (int k = 0; k < kb; ++k)
        for (int j = nr; j < NR; ++j) dst[k * NR + j] = 0.0f;
    }
  }

  // Packs A(ic:ic+mc, pc:pc+kb) as MR-row strips (strip s: kb rows of MR floats at dst + s·kb·MR, A(i,k) at
  // [k·MR + r]), zero-padding the last strip's missing rows (their results are never stored).
  static void packA(const Core& p, int ic, int mc, int pc, int kb, float* __restrict dst) {
    for (int i0 = 0; i0 < mc; i0 += MR, dst += static_cast<ptrdiff_t>(kb) * MR) {
      const int mr = std::min(MR, mc - i0);
      const float* src = p.a + static_cast<ptrdiff_t>(ic + i0) * p.rsa + static_cast<ptrdiff_t>(pc) * p.csa;
      if (p.rsa == 1) {
        // MR consecutive rows of one k are contiguous (form TN's A): with masks, one load and one store per k (MR ≤ W).
        if constexpr (kMasked && MR <= W) {
          const Mask rows = T::mask(mr), strip = T::mask(MR);
          for (int k = 0; k < kb; ++k) T::storeMasked(dst + k * MR, T::loadMasked(src + k * p.csa, rows), strip);
          continue;
        }
        for (int k = 0; k < kb; ++k) {
          const float* s = src + k * p.csa;
          for (int r = 0; r < mr; ++r) dst[k * MR + r] = s[r];
          for (int r = mr; r < MR; ++r) dst[k * MR + r] = 0.0f;
        }
      } else if (T::kPackRows && p.csa == 1 && mr == MR) {
        T::packRows(src, p.rsa, kb, dst);  // rows contiguous (form NN's A): transposed in registers
      } else {
        for (int r = 0; r < mr; ++r) {
          const float* row = src + r * p.rsa;
          for (int k = 0; k < kb; ++k) dst[k * MR + r] = row[k * p.csa];
        }
        for (int r = mr; r < MR; ++r)
          for (int k = 0; k < kb; ++k) dst[k * MR + r] = 0.0f;
      }
    }
  }

  // One tile that cannot go straight to C (short, transposed C, or bias along rows): through the scratch tile.
  static void tileViaScratch(const Core& p, int kb, const float* pa, const float* pb, ptrdiff_t ldb, int i, int j, int mr,
                             int nr, bool load, int epi, float* __restrict tile) {
    if (load) {
      for (int r = 0; r < mr; ++r)
        for (int q = 0; q < NR; ++q) tile[r * NR + q] = q < nr ? p.c[(i + r) * p.rsc + (j + q) * p.csc] : 0.0f;
    }
    microRows(mr, kb, pa, pb, ldb, tile, NR, load);
    for (int r = 0; r < mr; ++r) {
      for (int q = 0; q < nr; ++q) {
        const float bias = epi == trainyard::kEpiNone ? 0.0f : p.bias[p.biasOnRows ? i + r : j + q];
        p.c[(i + r) * p.rsc + (j + q) * p.csc] = epilogue1(epi, tile[r * NR + q], bias);
      }
    }
  }

  static void run(const Core& p, float* scratch) {
    const int K = p.K;
    if (K == 0) {
      for (int i = p.i0; i < p.i1; ++i) {
        for (int j = p.j0; j < p.j1; ++j) {
          float& cij = p.c[i * p.rsc + j * p.csc];
          const float v = p.accumulate ? cij : 0.0f;
          cij = epilogue1(p.epi, v, p.epi == trainyard::kEpiNone ? 0.0f : p.bias[p.biasOnRows ? i : j]);
        }
      }
      return;
    }
    float* const packedB = scratch;
    float* const packedA = packedB + static_cast<ptrdiff_t>(KC) * NC;
    float* const tile = packedA + static_cast<ptrdiff_t>(MC) * KC;
    const int blocks = (K + KC - 1) / KC;
    const int kcStep = (K + blocks - 1) / blocks;  // equal K blocks: 784 = 4 × 196
    // B read in place (full panels) for few rows and row-major B: packing would cost more than it saves.
    const bool direct = p.csb == 1 && p.i1 - p.i0 <= kDirectRows;
    // C's tile written in place: row-major C (not the transposed path, whose bias also runs along the tile's rows).
    const bool cDirect = p.csc == 1 && !p.biasOnRows;
    // A read in place (rows contiguous along k, form NN's A) for blocks of few columns, where a packed strip would be
    // used by few B panels (T with masked edges, whose tiles always go straight to C).
    const bool aDirect = cDirect && p.csa == 1 && p.j1 - p.j0 <= kADirectCols;
    for (int jc = p.j0; jc < p.j1; jc += NC) {
      const int nc = std::min(NC, p.j1 - jc);
      const int fullCols = (nc / NR) * NR;
      for (int pc = 0; pc < K; pc += kcStep) {
        const int kb = std::min(kcStep, K - pc);
        const bool load = p.accumulate || pc > 0;
        const int epi = pc + kb == K ? p.epi : trainyard::kEpiNone;
        if (!direct) packB(p, pc, kb, jc, nc, packedB);
        else if (fullCols < nc) packPanel(p.b + static_cast<ptrdiff_t>(pc) * p.rsb + (jc + fullCols), p.rsb, 1, kb, nc - fullCols, packedB);
        for (int ic = p.i0; ic < p.i1; ic += MC) {
          const int mc = std::min(MC, p.i1 - ic);
          if (!aDirect) packA(p, ic, mc, pc, kb, packedA);
          for (int jr = 0; jr < nc; jr += NR) {
            const int nr = std::min(NR, nc - jr);
            const int j = jc + jr;
            const float* pb;
            ptrdiff_t ldb;
            if (!direct) {
              pb = packedB + static_cast<ptrdiff_t>(jr / NR) * kb * NR;
              ldb = NR;
            } else if (nr == NR) {
              pb = p.b + static_cast<ptrdiff_t>(pc) * p.rsb + j;
              ldb = p.rsb;
            } else {
              pb = packedB;
              ldb = NR;
            }
            const float* pa = packedA;
            for (int ir = 0; ir < mc; ir += MR, pa += static_cast<ptrdiff_t>(kb) * MR) {
              const int mr = std::min(MR, mc - ir);
              const int i = ic + ir;
              const float* biasJ = epi == trainyard::kEpiNone ? nullptr : p.bias + j;
              if (aDirect) {
                const float* a = p.a + i * p.rsa + pc;
                if constexpr (kMasked) {
                  if (mr == MR && nr == NR) micro<MR, false, NRV, true>(kb, a, pb, ldb, p.c + i * p.rsc + j, p.rsc, load, epi, biasJ, NR, p.rsa);
                  else microEdge<true>(mr, nr, kb, a, p.rsa, pb, ldb, p.c + i * p.rsc + j, p.rsc, load, epi, biasJ);
                }
              } else if (cDirect && mr == MR && nr == NR) {
                micro(kb, pa, pb, ldb, p.c + i * p.rsc + j, p.rsc, load, epi, biasJ);
              } else if (kMasked && cDirect) {
                if constexpr (kMasked) microEdge<false>(mr, nr, kb, pa, MR, pb, ldb, p.c + i * p.rsc + j, p.rsc, load, epi, biasJ);
              } else {
                tileViaScratch(p, kb, pa, pb, ldb, i, j, mr, nr, load, epi, tile);
              }
            }
          }
        }
      }
    }
  }

  // Narrow forms TN and NN (C's block at most kNarrowCols columns, at least W rows): vectors of W rows of C, B's row k
  // broadcast per column. TN's A(i,k) = a[k·M + i] already runs along C's rows and is read in place; NN's A is packed
  // per W-row strip. No transposed tiles through the scratch, no 6-row tiles of which 3 count (dW2 of the spiral net,
  // 100×300×3: 3.8 → 2.2 µs). Each element
  // still gets the one sequence of every path: from C or +0, fma in increasing k, then the epilogue (scalar
  // epilogue1, the same f32 operations as epilogueV).
  static constexpr int kNarrowCols = 4;
  // Row vectors per group (RV·NCOL accumulators): 8 with 32 vector registers (W = 16: AVX-512), else 4.
  static constexpr int kNarrowVectors = W >= 16 ? 8 : 4;
  // Floats of narrowGroup's C tile in the scratch, and the deepest K whose packed NN strips fit after it.
  static constexpr int kNarrowTile = kNarrowVectors * W * kNarrowCols;
  static constexpr int kNarrowMaxK = 1024;
  static_assert((kNarrowTile + static_cast<size_t>(kNarrowVectors) * W * kNarrowMaxK) * 4 + 64 <= trainyard::kScratchBytes,
                "narrow NN strips fit the scratch");

  // RV vectors of W rows × NCOL columns from col0, in one pass down k: vector v covers rows i + v·W, except the last,
  // which covers rows i + last … (last ≤ (RV − 1)·W, so it may overlap the one before it when the rows are not a
  // multiple of W) and writes only its rows from i + (RV − 1)·W on. Every vector reads C (accumulate) before any store.
  // A(i + offset(v) + r, k) is at src(v)[k·ldk + r]: A in place (TN: src(v) = a + i + offset(v), ldk = M) or a packed
  // strip per vector (NN: ldk = W).
  template <int RV, int NCOL>
  static void narrowGroup(const trainyard::GemmCall& call, int i, int last, const float* const* src, ptrdiff_t ldk,
                          float* __restrict scratch) {
    const ptrdiff_t N = call.N;
    const int j0 = call.col0, rows = RV * W;
    float* c = call.c + static_cast<ptrdiff_t>(i) * N + j0;
    const auto offset = [last](int v) { return v == RV - 1 ? last : v * W; };
    V acc[RV][NCOL];
    if (call.accumulate) {
      for (int v = 0; v < RV; ++v)
        for (int r = 0; r < W; ++r)
          for (int j = 0; j < NCOL; ++j) scratch[j * rows + v * W + r] = c[static_cast<ptrdiff_t>(offset(v) + r) * N + j];
#pragma GCC unroll 8
      for (int v = 0; v < RV; ++v)
#pragma GCC unroll 4
        for (int j = 0; j < NCOL; ++j) acc[v][j] = T::load(scratch + j * rows + v * W);
    } else {
#pragma GCC unroll 8
      for (int v = 0; v < RV; ++v)
#pragma GCC unroll 4
        for (int j = 0; j < NCOL; ++j) acc[v][j] = T::zero();
    }
    const float* pa[RV];
    for (int v = 0; v < RV; ++v) pa[v] = src[v];
    const float* pb = call.b + j0;
    for (int k = 0; k < call.K; ++k, pb += N) {
      V av[RV];
#pragma GCC unroll 8
      for (int v = 0; v < RV; ++v) {
        av[v] = T::load(pa[v]);
        pa[v] += ldk;
      }
#pragma GCC unroll 4
      for (int j = 0; j < NCOL; ++j) {
        const V bj = T::broadcast(pb + j);
#pragma GCC unroll 8
        for (int v = 0; v < RV; ++v) acc[v][j] = T::fma(av[v], bj, acc[v][j]);
      }
    }
#pragma GCC unroll 8
    for (int v = 0; v < RV; ++v)
#pragma GCC unroll 4
      for (int j = 0; j < NCOL; ++j) T::store(scratch + j * rows + v * W, acc[v][j]);
    for (int v = 0; v < RV; ++v) {
      const int from = v == RV - 1 ? (RV - 1) * W - last : 0;  // rows the vector before it already wrote
      for (int r = from; r < W; ++r)
        for (int j = 0; j < NCOL; ++j) {
          const float bias = call.epilogue == trainyard::kEpiNone ? 0.0f : call.bias[j0 + j];
          c[static_cast<ptrdiff_t>(offset(v) + r) * N + j] = epilogue1(call.epilogue, scratch[j * rows + v * W + r], bias);
        }
    }
  }

  template <int NCOL, int RV = kNarrowVectors>
  static void narrowLast(const trainyard::GemmCall& call, int i, int vectors, float* scratch) {
    if constexpr (RV > 1) {
      if (vectors < RV) {
        narrowLast<NCOL, RV - 1>(call, i, vectors, scratch);
        return;
      }
    }
    narrowRun<RV, NCOL>(call, i, call.row1 - i - W, scratch);
  }

  // One group of narrowGroup's rows: TN reads A in place; NN first packs each vector's W rows of A as a strip (k rows
  // of W floats: W×W blocks transposed, the K tail copied), in the scratch after narrowGroup's C tile.
  template <int RV, int NCOL>
  static void narrowRun(const trainyard::GemmCall& call, int i, int last, float* scratch) {
    const float* src[RV];
    const auto offset = [last](int v) { return v == RV - 1 ? last : v * W; };
    if (call.form == trainyard::kFormTN) {
      for (int v = 0; v < RV; ++v) src[v] = call.a + i + offset(v);
      narrowGroup<RV, NCOL>(call, i, last, src, call.M, scratch);
      return;
    }
    const ptrdiff_t K = call.K;
    float* packed = scratch + kNarrowTile;
    const ptrdiff_t kFull = (K / W) * W;
    for (int v = 0; v < RV; ++v) {
      float* dst = packed + v * K * W;
      const float* rows = call.a + static_cast<ptrdiff_t>(i + offset(v)) * K;
      for (ptrdiff_t k = 0; k < kFull; k += W) T::transposeBlock(rows + k, K, dst + k * W, W);
      for (ptrdiff_t k = kFull; k < K; ++k)
        for (int r = 0; r < W; ++r) dst[k * W + r] = rows[r * K + k];
      src[v] = dst;
    }
    narrowGroup<RV, NCOL>(call, i, last, src, W, scratch);
  }

  template <int NCOL>
  static void narrowTN(const trainyard::GemmCall& call, float* scratch) {
    int i = call.row0;
    // Groups of kNarrowVectors − 1 whole vectors while more than kNarrowVectors·W rows remain, so that the last group
    // has more than W rows (or all of them, ≥ W): its last vector, ending at row1, never reaches back into rows another
    // group has written.
    while (call.row1 - i > kNarrowVectors * W) {
      narrowRun<kNarrowVectors - 1, NCOL>(call, i, (kNarrowVectors - 2) * W, scratch);
      i += (kNarrowVectors - 1) * W;
    }
    narrowLast<NCOL>(call, i, (call.row1 - i + W - 1) / W, scratch);
  }

  // The engine's call: picks the plain or the transposed core (narrow blocks: fewer than NR columns, more rows than
  // columns, computed as Cᵀ = op(B)ᵀ·op(A)ᵀ so the tile's NR columns run along C's rows; fma(a, b, c) = fma(b, a, c)).
  static void gemm(const trainyard::GemmCall& call) {
    if (call.row0 >= call.row1 || call.col0 >= call.col1) return;
    const ptrdiff_t M = call.M, K = call.K, N = call.N;
    // A(i,k), B(k,j) strides per form.
    const ptrdiff_t rsa = call.form == trainyard::kFormTN ? 1 : K, csa = call.form == trainyard::kFormTN ? M : 1;
    const ptrdiff_t rsb = call.form == trainyard::kFormNT ? 1 : N, csb = call.form == trainyard::kFormNT ? K : 1;
    float* scratch = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(call.scratch) + 63) & ~static_cast<uintptr_t>(63));
    const int rows = call.row1 - call.row0, cols = call.col1 - call.col0;
    const bool narrowForm = call.form == trainyard::kFormTN || (call.form == trainyard::kFormNN && call.K <= kNarrowMaxK);
    if (narrowForm && cols <= kNarrowCols && rows >= W) {
      switch (cols) {
        case 1: narrowTN<1>(call, scratch); return;
        case 2: narrowTN<2>(call, scratch); return;
        case 3: narrowTN<3>(call, scratch); return;
        default: narrowTN<4>(call, scratch); return;
      }
    }
    Core p;
    p.K = call.K;
    p.accumulate = call.accumulate;
    p.epi = call.epilogue;
    p.bias = call.bias;
    p.c = call.c;
    if (cols < NR && rows > cols) {
      p.a = call.b; p.rsa = csb; p.csa = rsb;
      p.b = call.a; p.rsb = csa; p.csb = rsa;
      p.rsc = 1; p.csc = N;
      p.biasOnRows = true;
      p.i0 = call.col0; p.i1 = call.col1; p.j0 = call.row0; p.j1 = call.row1;
    } else {
      p.a = call.a; p.rsa = rsa; p.csa = csa;
      p.b = call.b; p.rsb = rsb; p.csb = csb;
      p.rsc = N; p.csc = 1;
      p.biasOnRows = false;
      p.i0 = call.row0; p.i1 = call.row1; p.j0 = call.col0; p.j1 = call.col1;
    }
    run(p, scratch);
  }
};
