package io.jnetmap.bench;

import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names a JMH benchmark's figure in {@code bench/run}'s output: {@code RESULT <name> <value> <unit>}.
 * The primary score is scaled by {@link #scale()}; a secondary metric (e.g. JMH's GC profiler's
 * {@code gc.alloc.rate.norm}, bytes per operation) is chosen with {@link #metric()}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(Result.List.class)
public @interface Result {
    /** Dotted result name, e.g. {@code core.slot.rw}; {@code {param}} stands for a {@code @Param}'s value. */
    String name();

    /** Unit printed after the value: {@code ns}, {@code Mpps}, {@code B/op}, {@code Gbps}. */
    String unit();

    /** Factor applied to the score (ops/s to Mpps: 1e-6). */
    double scale() default 1.0;

    /** JMH secondary result to report instead of the primary score ("" = primary). */
    String metric() default "";

    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface List {
        Result[] value();
    }
}
