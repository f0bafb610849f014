package dev.sharedipc.agent.kube;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Certificates and private keys in PEM, as kubeconfigs and service accounts carry them. */
final class Pem {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");

  private Pem() {}

  static List<Certificate> certificates(String pem) throws GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    return List.copyOf(
        factory.generateCertificates(
            new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
  }

  /**
   * A PKCS#8 key ({@code BEGIN PRIVATE KEY}: what kubeadm, the local control plane and
   * kube-api-test write); RSA or EC.
   */
  static PrivateKey privateKey(String pem) throws GeneralSecurityException {
    Matcher m = BLOCK.matcher(pem);
    if (!m.find()) {
      throw new GeneralSecurityException("no PEM block in the client key");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(2));
    if ("RSA PRIVATE KEY".equals(m.group(1))) {
      der = pkcs8OfRsa(der);
    } else if (!"PRIVATE KEY".equals(m.group(1))) {
      throw new GeneralSecurityException(
          "client key is a "
              + m.group(1)
              + "; the agent reads PKCS#8 (BEGIN PRIVATE KEY) and RSA keys: convert it with "
              + "openssl pkcs8 -topk8 -nocrypt");
    }
    GeneralSecurityException last = null;
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw new GeneralSecurityException("client key is neither RSA, EC nor Ed25519", last);
  }

  /** rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters, DER. */
  private static final byte[] RSA_ALGORITHM = {
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  /** A PKCS#1 RSAPrivateKey wrapped as PKCS#8: SEQUENCE { 0, rsaEncryption, OCTET STRING key }. */
  static byte[] pkcs8OfRsa(byte[] pkcs1) {
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(RSA_ALGORITHM);
    body.writeBytes(der(0x04, pkcs1));
    return der(0x30, body.toByteArray());
  }

  private static byte[] der(int tag, byte[] content) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(n >>> (8 * i));
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }
}
