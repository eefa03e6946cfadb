/* SPDX-License-Identifier: MIT */
package dev.padata.bench.workload;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;

/**
 * {@code deflate}: ordered block compression as pigz does it. The input is cut into 128 KiB
 * blocks; each block is compressed on its own by a per-thread {@link Deflater} (raw deflate,
 * level 6, primed with the 32 KiB of input before the block as dictionary), ending with a sync
 * flush, the last one with the final block; the serial stage appends the blocks to one gzip
 * stream (header, blocks, CRC-32 and length of the input), which {@code gzip -d} reads back
 * byte-identical ({@link #verify}).
 *
 * <p>The input is real text: the text files under {@code /usr/share} (no compressed or binary
 * files), concatenated in name order with a header line each, cut to the size asked, cached in a
 * file so that every run compresses the same bytes.
 */
final class DeflateWorkload implements Workload {
    static final int BLOCK = 128 * 1024;
    private static final int DICT = 32 * 1024;
    private static final int LEVEL = 6;
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

    private final byte[] input;
    private final int max;
    private int n;
    private final ThreadLocal<State> state = ThreadLocal.withInitial(State::new);
    /** The single loop's gzip stream, every ordered run is compared with. */
    private byte[] reference;

    private static final class State {
        final Deflater deflater = new Deflater(LEVEL, true);
        byte[] buf = new byte[BLOCK + BLOCK / 8];
    }

    DeflateWorkload(byte[] input) {
        this.input = input;
        this.max = (input.length + BLOCK - 1) / BLOCK;
        this.n = max;
        if (max < 2) {
            throw new IllegalArgumentException("the deflate input needs at least 2 blocks, has " + input.length + " bytes");
        }
    }

    @Override
    public String name() {
        return "deflate";
    }

    @Override
    public int size() {
        return BLOCK;
    }

    @Override
    public int items() {
        return n;
    }

    @Override
    public void items(int count) {
        int c = Math.max(2, Math.min(count, max));
        if (c != n) {
            reference = null;
        }
        n = c;
    }

    @Override
    public int maxItems() {
        return max;
    }

    @Override
    public long bytes() {
        return Math.min((long) n * BLOCK, input.length);
    }

    private int end(int i) {
        return (int) Math.min((long) (i + 1) * BLOCK, bytes());
    }

    @Override
    public Out process(int i) {
        State s = state.get();
        Deflater d = s.deflater;
        int start = i * BLOCK;
        int len = end(i) - start;
        d.reset();
        if (i > 0) {
            d.setDictionary(input, start - DICT, DICT);
        }
        d.setInput(input, start, len);
        int out = 0;
        boolean last = i == n - 1;
        if (last) {
            d.finish();
        }
        while (true) {
            if (out == s.buf.length) {
                s.buf = Arrays.copyOf(s.buf, s.buf.length * 2);
            }
            int k = d.deflate(s.buf, out, s.buf.length - out, last ? Deflater.NO_FLUSH : Deflater.SYNC_FLUSH);
            out += k;
            // A sync flush is complete when it left room in the buffer; the last block when finished.
            if (last ? d.finished() : out < s.buf.length) {
                break;
            }
        }
        byte[] block = Arrays.copyOf(s.buf, out);
        CRC32C crc = new CRC32C();
        crc.update(block);
        return new Out(i, block, (int) crc.getValue());
    }

    /** The serial stage: the gzip stream in a reused buffer, and the CRC-32 of the input for its trailer. */
    final class GzipSink extends Sink {
        private final CRC32 crc = new CRC32();
        private byte[] stream = new byte[(int) Math.min(Integer.MAX_VALUE - 64, bytes() / 2 + 64)];
        private int len;

        GzipSink() {
            super(n);
            append(HEADER, HEADER.length);
        }

        @Override
        void take(Out o) {
            int i = o.index();
            crc.update(input, i * BLOCK, end(i) - i * BLOCK);
            append(o.bytes(), o.bytes().length);
        }

        private void append(byte[] b, int k) {
            if (len + k > stream.length) {
                stream = Arrays.copyOf(stream, Math.max(stream.length * 2, len + k));
            }
            System.arraycopy(b, 0, stream, len, k);
            len += k;
        }

        /** The complete gzip stream (header, blocks, trailer). */
        byte[] gzip() {
            byte[] t = new byte[8];
            long c = crc.getValue();
            long size = bytes();
            for (int k = 0; k < 4; k++) {
                t[k] = (byte) (c >>> (8 * k));
                t[4 + k] = (byte) (size >>> (8 * k));
            }
            byte[] all = Arrays.copyOf(stream, len + 8);
            System.arraycopy(t, 0, all, len, 8);
            return all;
        }
    }

    @Override
    public Sink newSink() {
        return new GzipSink();
    }

    /**
     * After an ordered run: its gzip stream must be byte-identical to the single loop's (the
     * first run becomes the reference, checked by {@link #verify}).
     */
    void checkStream(Sink sink, String contender) {
        byte[] gz = ((GzipSink) sink).gzip();
        if (reference == null) {
            reference = gz;
        } else if (!Arrays.equals(gz, reference)) {
            throw new IllegalStateException(contender + ": the gzip stream differs from the single loop's ("
                    + gz.length + " vs " + reference.length + " bytes)");
        }
    }

    /**
     * Reads the reference stream back with {@link GZIPInputStream} and with {@code gzip -d} (when
     * on PATH) and compares with the input; writes it to {@code dir/deflate-java.gz}.
     *
     * @return what was checked, for the log
     * @throws IllegalStateException when a read-back differs
     */
    String verify(Path dir) throws IOException, InterruptedException {
        if (reference == null) {
            throw new IllegalStateException("no reference stream: run the single loop first");
        }
        byte[] want = Arrays.copyOf(input, (int) bytes());
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(reference), 1 << 16)) {
            if (!Arrays.equals(in.readAllBytes(), want)) {
                throw new IllegalStateException("GZIPInputStream does not read the deflate stream back byte-identical");
            }
        }
        Files.createDirectories(dir);
        Path gz = dir.resolve("deflate-java.gz");
        Files.write(gz, reference);
        String gzip = onPath("gzip");
        if (gzip == null) {
            return "GZIPInputStream (no gzip on PATH)";
        }
        Process p = new ProcessBuilder(gzip, "-d", "-c", gz.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] back;
        try (InputStream in = p.getInputStream()) {
            back = in.readAllBytes();
        }
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("gzip -d " + gz + " failed");
        }
        if (!Arrays.equals(back, want)) {
            throw new IllegalStateException("gzip -d does not read " + gz + " back byte-identical");
        }
        return "GZIPInputStream and gzip -d";
    }

    private static String onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    /**
     * The input: {@code cache} when it exists and has {@code size} bytes, else made from the
     * text files under {@code root} and written to {@code cache}.
     */
    static byte[] input(Path cache, Path root, int size) throws IOException {
        if (Files.isRegularFile(cache) && Files.size(cache) == size) {
            return Files.readAllBytes(cache);
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = new ArrayList<>(s.filter(Files::isRegularFile).filter(DeflateWorkload::textName).sorted().toList());
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(size);
        for (int round = 0; b.size() < size && round < 64; round++) {
            int before = b.size();
            for (Path f : files) {
                if (b.size() >= size) {
                    break;
                }
                appendText(b, f);
            }
            if (b.size() == before) {
                throw new IOException("no text files under " + root + " for the deflate input");
            }
        }
        byte[] all = Arrays.copyOf(b.toByteArray(), size);
        Files.createDirectories(cache.getParent());
        Path tmp = cache.resolveSibling(cache.getFileName() + ".tmp");
        Files.write(tmp, all);
        Files.move(tmp, cache, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return all;
    }

    private static boolean textName(Path p) {
        String f = p.getFileName().toString();
        return !f.matches(".*\\.(gz|bz2|xz|zst|lz|zip|png|jpg|jpeg|gif|ico|svgz|mo|ttf|otf|pcf|jar|so|a|bin|db|pyc|ogg|wav)$");
    }

    private static void appendText(ByteArrayOutputStream b, Path f) {
        byte[] data;
        try {
            if (Files.size(f) > (8 << 20)) {
                return;
            }
            data = Files.readAllBytes(f);
        } catch (IOException | SecurityException e) {
            return; // unreadable: skip
        }
        int probe = Math.min(data.length, 8192);
        for (int i = 0; i < probe; i++) {
            if (data[i] == 0) {
                return; // binary
            }
        }
        OutputStream o = b;
        try {
            o.write(("==> " + f + " <==\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            o.write(data);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
