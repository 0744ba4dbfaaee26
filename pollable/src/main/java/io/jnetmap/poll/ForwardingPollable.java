package io.jnetmap.poll;

/**
 * A {@link Pollable} that hands every call to another one: the base of pollables that add a condition
 * of their own (a broken peer reported as {@link #ERR}, a wake-up wish to publish before sleeping) and
 * override only the calls that condition changes.
 */
public abstract class ForwardingPollable implements Pollable {
    /** The pollable every call not overridden goes to. */
    protected final Pollable inner;

    protected ForwardingPollable(Pollable inner) {
        this.inner = inner;
    }

    @Override
    public int fd() {
        return inner.fd();
    }

    @Override
    public int fdEvents(int interest) {
        return inner.fdEvents(interest);
    }

    @Override
    public int pollNow(int interest) {
        return inner.pollNow(interest);
    }

    @Override
    public int arm(int interest) {
        return inner.arm(interest);
    }

    @Override
    public void disarm() {
        inner.disarm();
    }
}
