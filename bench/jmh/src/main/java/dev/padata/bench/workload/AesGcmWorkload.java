/* SPDX-License-Identifier: MIT */
package dev.padata.bench.workload;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * {@code aes-gcm}: sealing packets with AES-128-GCM through {@code javax.crypto}, as IPsec ESP
 * does: one {@code Cipher} per thread, created and keyed on the thread's first packet; per packet
 * a new {@link GCMParameterSpec} (12-byte IV: 4-byte salt and the 8-byte packet number), 8 bytes
 * of AAD (SPI and sequence number) and {@code doFinal} into a new array (ciphertext and 16-byte
 * tag), whose CRC-32C goes to the serial stage. The plaintexts are windows of 1 MiB of seeded
 * random bytes.
 */
final class AesGcmWorkload implements Workload {
    private static final SecretKeySpec KEY = new SecretKeySpec(new byte[] {
            0x2b, 0x7e, 0x15, 0x16, 0x28, (byte) 0xae, (byte) 0xd2, (byte) 0xa6,
            (byte) 0xab, (byte) 0xf7, 0x15, (byte) 0x88, 0x09, (byte) 0xcf, 0x4f, 0x3c}, "AES");
    private static final byte[] PLAIN = new byte[1 << 20];

    static {
        new SplittableRandom(0x5eed).nextBytes(PLAIN);
    }

    private final int size;
    private final int max;
    private int n;
    private final ThreadLocal<Cipher> cipher = ThreadLocal.withInitial(AesGcmWorkload::newCipher);

    AesGcmWorkload(int size, int maxItems) {
        if (size < 1 || size > PLAIN.length / 2) {
            throw new IllegalArgumentException("aes-gcm packet size must be 1.." + PLAIN.length / 2 + ", not " + size);
        }
        this.size = size;
        this.max = maxItems;
        this.n = maxItems;
    }

    private static Cipher newCipher() {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            // Keyed here once per thread; process() re-inits with the same key for each IV.
            c.init(Cipher.ENCRYPT_MODE, KEY, new GCMParameterSpec(128, new byte[12]));
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM/NoPadding is not available: " + e, e);
        }
    }

    @Override
    public String name() {
        return "aes-gcm";
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int items() {
        return n;
    }

    @Override
    public void items(int count) {
        n = Math.max(1, Math.min(count, max));
    }

    @Override
    public int maxItems() {
        return max;
    }

    @Override
    public long bytes() {
        return (long) n * size;
    }

    @Override
    public Out process(int i) {
        byte[] iv = {0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0, (byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
        byte[] aad = {0x00, 0x00, 0x10, 0x01, (byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
        int off = (int) ((i * 4099L) % (PLAIN.length - size));
        try {
            Cipher c = cipher.get();
            c.init(Cipher.ENCRYPT_MODE, KEY, new GCMParameterSpec(128, iv));
            c.updateAAD(aad);
            byte[] sealed = c.doFinal(PLAIN, off, size);
            CRC32C crc = new CRC32C();
            crc.update(sealed);
            return new Out(i, sealed, (int) crc.getValue());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing packet " + i + " failed: " + e, e);
        }
    }

    @Override
    public Sink newSink() {
        return new Sink(n);
    }
}
