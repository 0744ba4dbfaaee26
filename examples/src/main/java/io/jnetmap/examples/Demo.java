package io.jnetmap.examples;

/**
 * {@code bin/jnetmap demo}: the project's main job on an embedded default. Until pipes land it only
 * says what it will do.
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        System.out.println("jnetmap demo: generators and sinks connected through zero-copy pipes (and, later, the");
        System.out.println("VALE switch), with progress each second and a summary. Not available yet in this build:");
        System.out.println("it arrives with the pipes module (issue 3).");
        System.exit(1);
    }
}
