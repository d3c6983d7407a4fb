;; The prefilter's row scan (src/decode/prefilter.ts) in WebAssembly: the part of the idle path
;; that runs on the main thread for every admitted frame. The same arithmetic as the JS version it
;; replaced (kept in prefilter.ts as the reference the tests compare with): a 2x box downscale of
;; a pair of frame rows, prefix sums of the downscaled row, then the positions where a pixel
;; turns dark or light against the mean of its neighbourhood (with hysteresis). The downscale
;; takes 8 output pixels per SIMD step; the rest is scalar, without bounds checks.
;;
;; Built into src/decode/prefilter-scan-wasm.ts by `npm run build:wasm` (wabt); a test recompiles
;; this file and fails when the embedded bytes differ.
;;
;; Memory (exported; the caller grows it): the caller writes `rows` row pairs at `in`, each two
;; frame rows of `width` bytes back to back; `scan` uses `row` (w bytes) and `sums` ((w + 1) x 4
;; bytes) as scratch and writes row i's transitions at tr + i * (w + 2) * 4 (i32: 0, positions,
;; w) and their count at cnt + i * 4.
(module
  (memory (export "memory") 1)

  (func $down (param $p i32) (param $q i32) (param $w i32) (param $row i32)
    (local $x i32) (local $s v128)
    ;; 8 output pixels from 16 bytes of each source row.
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $x) (i32.const 8)) (local.get $w)))
        (local.set $s
          (i16x8.shr_u
            (i16x8.add
              (i16x8.add
                (i16x8.extadd_pairwise_i8x16_u (v128.load (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 1)))))
                (i16x8.extadd_pairwise_i8x16_u (v128.load (i32.add (local.get $q) (i32.shl (local.get $x) (i32.const 1))))))
              (v128.const i16x8 2 2 2 2 2 2 2 2))
            (i32.const 2)))
        (v128.store64_lane 0 (i32.add (local.get $row) (local.get $x)) (i8x16.narrow_i16x8_u (local.get $s) (local.get $s)))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (br $vec)))
    ;; The last (w mod 8) pixels one at a time.
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $x) (local.get $w)))
        (i32.store8 (i32.add (local.get $row) (local.get $x))
          (i32.shr_u
            (i32.add
              (i32.add
                (i32.add (i32.load8_u (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 1))))
                         (i32.load8_u (i32.add (local.get $p) (i32.add (i32.shl (local.get $x) (i32.const 1)) (i32.const 1)))))
                (i32.add (i32.load8_u (i32.add (local.get $q) (i32.shl (local.get $x) (i32.const 1))))
                         (i32.load8_u (i32.add (local.get $q) (i32.add (i32.shl (local.get $x) (i32.const 1)) (i32.const 1))))))
              (i32.const 2))
            (i32.const 2)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $tail))))

  (func $prefix (param $row i32) (param $w i32) (param $sums i32)
    (local $x i32) (local $sum i32)
    (i32.store (local.get $sums) (i32.const 0))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $x) (local.get $w)))
        (local.set $sum (i32.add (local.get $sum) (i32.load8_u (i32.add (local.get $row) (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (i32.store (i32.add (local.get $sums) (i32.shl (local.get $x) (i32.const 2))) (local.get $sum))
        (br $l))))

  ;; sums[i] as i32.
  (func $sum (param $sums i32) (param $i i32) (result i32)
    (i32.load (i32.add (local.get $sums) (i32.shl (local.get $i) (i32.const 2)))))

  ;; Transitions of one row; returns their count (JS `transitions` in prefilter.ts).
  (func $transitions (param $row i32) (param $sums i32) (param $w i32) (param $win i32) (param $contrast i32) (param $out i32) (result i32)
    (local $x i32) (local $n i32) (local $dark i32) (local $d i32) (local $v i32)
    (local $n2 i32) (local $c2 i32) (local $s i32) (local $vn i32) (local $a i32) (local $b i32) (local $mean f64)
    (local.set $n2 (i32.add (i32.shl (local.get $win) (i32.const 1)) (i32.const 1)))
    (local.set $c2 (i32.mul (local.get $contrast) (local.get $n2)))
    (i32.store (local.get $out) (i32.const 0))
    (local.set $n (i32.const 1))
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $x) (local.get $w)))
        (local.set $v (i32.load8_u (i32.add (local.get $row) (local.get $x))))
        (local.set $d (local.get $dark))
        (if (i32.and (i32.ge_s (local.get $x) (local.get $win))
                     (i32.le_s (i32.add (i32.add (local.get $x) (local.get $win)) (i32.const 1)) (local.get $w)))
          (then
            (local.set $s (i32.sub (call $sum (local.get $sums) (i32.add (i32.add (local.get $x) (local.get $win)) (i32.const 1)))
                                   (call $sum (local.get $sums) (i32.sub (local.get $x) (local.get $win)))))
            (local.set $vn (i32.mul (local.get $v) (local.get $n2)))
            (if (i32.lt_s (local.get $vn) (i32.sub (local.get $s) (local.get $c2)))
              (then (local.set $d (i32.const 1)))
              (else (if (i32.gt_s (local.get $vn) (i32.add (local.get $s) (local.get $c2)))
                (then (local.set $d (i32.const 0)))))))
          (else
            ;; Near the row's ends: the window is clipped, so the mean is a division (as in JS, f64).
            (local.set $a (select (i32.const 0) (i32.sub (local.get $x) (local.get $win)) (i32.lt_s (i32.sub (local.get $x) (local.get $win)) (i32.const 0))))
            (local.set $b (i32.add (i32.add (local.get $x) (local.get $win)) (i32.const 1)))
            (local.set $b (select (local.get $w) (local.get $b) (i32.gt_s (local.get $b) (local.get $w))))
            (local.set $mean (f64.div (f64.convert_i32_s (i32.sub (call $sum (local.get $sums) (local.get $b)) (call $sum (local.get $sums) (local.get $a))))
                                      (f64.convert_i32_s (i32.sub (local.get $b) (local.get $a)))))
            (if (f64.lt (f64.convert_i32_s (local.get $v)) (f64.sub (local.get $mean) (f64.convert_i32_s (local.get $contrast))))
              (then (local.set $d (i32.const 1)))
              (else (if (f64.gt (f64.convert_i32_s (local.get $v)) (f64.add (local.get $mean) (f64.convert_i32_s (local.get $contrast))))
                (then (local.set $d (i32.const 0))))))))
        (if (i32.ne (local.get $d) (local.get $dark))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $x))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $dark (local.get $d))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $l)))
    (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $w))
    (i32.add (local.get $n) (i32.const 1)))

  ;; Row pairs [0, rows) at `in` -> transitions at `tr` (stride (w + 2) x 4 bytes), counts at `cnt`.
  (func (export "scan") (param $in i32) (param $width i32) (param $w i32) (param $rows i32) (param $win i32) (param $contrast i32)
                        (param $row i32) (param $sums i32) (param $tr i32) (param $cnt i32)
    (local $i i32) (local $p i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $p (i32.add (local.get $in) (i32.mul (local.get $i) (i32.shl (local.get $width) (i32.const 1)))))
        (call $down (local.get $p) (i32.add (local.get $p) (local.get $width)) (local.get $w) (local.get $row))
        (call $prefix (local.get $row) (local.get $w) (local.get $sums))
        (i32.store (i32.add (local.get $cnt) (i32.shl (local.get $i) (i32.const 2)))
          (call $transitions (local.get $row) (local.get $sums) (local.get $w) (local.get $win) (local.get $contrast)
            (i32.add (local.get $tr) (i32.mul (local.get $i) (i32.shl (i32.add (local.get $w) (i32.const 2)) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))))
