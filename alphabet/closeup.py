"""Synthetic close-ups of one car's rear or front, as a phone or a parking camera sees it.

:func:`synth_closeup` draws a daylight photo where one car fills much of the frame: body,
window or grille, lamps, a bumper with the plate in it, often a dealer's plate frame with
print above and below the plate, a maker's badge and stickers (text that is not a plate),
and a blurred street behind. US plates carry a state name above and a slogan below their
characters. A mild perspective, sun and shade, noise, blur and JPEG follow. The plate is
5-35 % of the frame's width (80-250 px in a 640-1280 px photo, as close-ups have it).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.formats import random_plate_text
from alphabet.scene import Scene, _check_size, _colour
from alphabet.synth import draw_plate

Image = npt.NDArray[np.uint8]

STATES = (
    "CALIFORNIA", "TEXAS", "NEW YORK", "FLORIDA", "Ohio", "ARIZONA", "Illinois", "GEORGIA",
    "Oregon", "NEVADA", "Virginia", "MICHIGAN", "Colorado", "WASHINGTON", "UTAH", "Maine",
)  # fmt: skip
SLOGANS = (
    "Sunshine State", "Empire State", "Land of Lincoln", "DMV.CA.GOV", "Lone Star State",
    "Great Lakes", "Live Free or Die", "Vacationland", "Peach State", "Battle Born",
    "Life Elevated", "Grand Canyon State", "Virginia is for Lovers",
)  # fmt: skip
#: Print on plate frames, badges and stickers: text near a plate that is not a plate.
DEALER_WORDS = (
    "SMITH FORD", "AUTONATION", "CARMAX", "HONDA OF MESA", "LEXUS OF AUSTIN", "AUTOHAUS",
    "TOYOTA CENTER", "www.autohaus-mueller.de", "CALL 555-0134", "BMW NIEDERLASSUNG",
    "PEUGEOT", "RENAULT 24", "GO BLUE", "ALUMNI",
)  # fmt: skip
BADGES = (
    "TOYOTA", "HONDA", "FORD", "VW", "AUDI", "HYBRID", "4MATIC", "AWD", "TDI", "CIVIC",
    "PRIUS", "GOLF", "320d", "XDRIVE", "SPORT", "LIMITED", "V6", "1.6 HDi", "ECOBOOST",
)  # fmt: skip
STICKERS = (
    "COEXIST", "BABY ON BOARD", "HONOR STUDENT", "PERMIT 24", "NO FEAR", "STUDENT DRIVER",
    "GO TEAM", "I LOVE NY", "TUV 2027", "CH", "NL", "D", "26", "OBX",
)  # fmt: skip
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX)


def _text(
    img: Image,
    word: str,
    centre: tuple[float, float],
    height: float,
    ink: tuple[int, int, int],
    rng: np.random.Generator,
) -> None:
    """``word`` centred at ``centre`` with capitals about ``height`` px tall, in place."""
    font = _FONTS[int(rng.integers(len(_FONTS)))]
    scale = max(height / 22.0, 0.15)
    thick = max(round(scale * rng.uniform(1.0, 2.2)), 1)
    (tw, th), _ = cv2.getTextSize(word, font, scale, thick)
    origin = (int(centre[0] - tw / 2), int(centre[1] + th / 2))
    cv2.putText(img, word, origin, font, scale, ink, thick, cv2.LINE_AA)


def _street(size: tuple[int, int], rng: np.random.Generator) -> Image:
    """A blurred daylight street behind the car: sky or walls, ground, other shapes."""
    width, height = size
    img = np.empty((height, width, 3), np.uint8)
    ground = int(height * rng.uniform(0.45, 0.8))
    img[:ground] = _colour(rng, 90, 230)
    img[ground:] = _colour(rng, 60, 150) if rng.random() < 0.5 else [int(rng.uniform(70, 140))] * 3
    for _ in range(int(rng.integers(4, 12))):  # walls, trees, parked cars, windows
        x, y = int(rng.uniform(-0.2, 1.0) * width), int(rng.uniform(-0.2, 0.9) * height)
        w, h = int(rng.uniform(0.05, 0.5) * width), int(rng.uniform(0.05, 0.5) * height)
        cv2.rectangle(img, (x, y), (x + w, y + h), _colour(rng, 20, 240), -1)
    sigma = rng.uniform(2, 8) * width / 640
    img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), np.uint8)
    # Streets are mostly grey, beige and green: take most of the colour out.
    grey = img.mean(axis=2, keepdims=True)
    muted = grey + (img - grey) * rng.uniform(0.15, 0.6)
    return np.clip(muted, 0, 255).astype(np.uint8)


def _us_print(plate: Image, rng: np.random.Generator) -> None:
    """State name above and a slogan below the characters of a 2:1 US plate, in place."""
    ph, pw = plate.shape[:2]
    ink = tuple(int(c) for c in plate[ph // 2, :].min(axis=0))  # the plate's darkest tone
    colour: tuple[int, int, int] = (ink[0], ink[1], ink[2])
    if rng.random() < 0.4:
        colour = _colour(rng, 0, 200)
    plate[int(ph * 0.04) : int(ph * 0.24), int(pw * 0.1) : int(pw * 0.9)] = plate[
        int(ph * 0.26), int(pw * 0.05)
    ]
    _text(
        plate, STATES[int(rng.integers(len(STATES)))], (pw / 2, ph * 0.14), ph * 0.13, colour, rng
    )
    if rng.random() < 0.75:
        _text(plate, SLOGANS[int(rng.integers(len(SLOGANS)))], (pw / 2, ph * 0.9), ph * 0.07,
              colour, rng)  # fmt: skip


def _pick_format(rng: np.random.Generator) -> str:
    u = rng.random()
    return "us" if u < 0.45 else "eu" if u < 0.8 else ("es", "ua", "br")[int(rng.integers(3))]


def _car(img: Image, plate_box: tuple[int, int, int, int], rng: np.random.Generator) -> None:
    """The car around the plate at ``plate_box`` (x, y, w, h), in place: body, window or
    grille, lamps, bumper and recess, badge, stickers, sometimes a dealer frame."""
    height, width = img.shape[:2]
    px, py, pw, ph = plate_box
    cx = px + pw / 2 + rng.uniform(-0.3, 0.3) * pw
    car_w = pw * rng.uniform(3.0, 5.5)
    left, right = int(cx - car_w / 2), int(cx + car_w / 2)
    top = int(py - car_w * rng.uniform(0.35, 0.7))
    bottom = int(py + ph * rng.uniform(1.6, 3.0))
    grey = rng.random() < 0.6
    body = [int(rng.uniform(15, 235))] * 3 if grey else list(_colour(rng, 10, 230))
    cv2.rectangle(img, (left, top), (right, bottom), body, -1)
    # Shading: the upper body catches the sky, the lower half is darker.
    ys = slice(max(top, 0), max(min(bottom, height), 0))
    xs = slice(max(left, 0), max(min(right, width), 0))
    rows = np.linspace(rng.uniform(1.0, 1.3), rng.uniform(0.6, 0.9), ys.stop - ys.start)
    region = img[ys, xs].astype(np.float32) * rows[:, None, None].astype(np.float32)
    img[ys, xs] = np.clip(region, 0, 255).astype(np.uint8)
    front = rng.random() < 0.4
    upper = int(top + (py - top) * rng.uniform(0.05, 0.2))
    lower = int(top + (py - top) * rng.uniform(0.45, 0.65))
    if front:  # grille between the headlights
        gx0, gx1 = (
            int(cx - car_w * rng.uniform(0.15, 0.3)),
            int(cx + car_w * rng.uniform(0.15, 0.3)),
        )
        gy0 = int(lower + (py - lower) * rng.uniform(0.1, 0.4))
        cv2.rectangle(img, (gx0, gy0), (gx1, py - 2), _colour(rng, 10, 60), -1)
        for gy in range(gy0, py - 2, max(ph // 4, 3)):
            cv2.line(img, (gx0, gy), (gx1, gy), _colour(rng, 80, 200), max(ph // 20, 1))
        lamp = (int(rng.uniform(170, 255)),) * 3
    else:  # rear window with a sky reflection
        glass = np.array(
            [[left + car_w * 0.12, upper], [right - car_w * 0.12, upper],
             [right - car_w * 0.05, lower], [left + car_w * 0.05, lower]], np.int32,
        )  # fmt: skip
        cv2.fillConvexPoly(img, glass, _colour(rng, 20, 90))
        shine = glass.copy()
        shine[[1, 2], 0] = shine[[0, 3], 0] + int(car_w * rng.uniform(0.1, 0.3))
        cv2.fillConvexPoly(
            img, shine + np.array([int(car_w * rng.uniform(0, 0.5)), 0]), _colour(rng, 90, 160)
        )
        lamp = (int(rng.uniform(20, 60)), int(rng.uniform(20, 60)), int(rng.uniform(150, 230)))
    lamp_h = int(ph * rng.uniform(0.8, 2.0))
    ly = int(lower + rng.uniform(0.05, 0.4) * (py - lower))
    for lx0 in (left, int(right - car_w * 0.22)):
        cv2.rectangle(img, (lx0, ly), (lx0 + int(car_w * 0.22), ly + lamp_h), lamp, -1)
    # Bumper: a band across the plate, often black plastic, with a recess behind the plate.
    by0, by1 = int(py - ph * rng.uniform(0.4, 1.2)), int(py + ph * rng.uniform(1.2, 2.2))
    if rng.random() < 0.5:
        bumper = (
            [int(rng.uniform(15, 60))] * 3 if rng.random() < 0.5 else [int(c * 0.85) for c in body]
        )
        cv2.rectangle(img, (left, by0), (right, by1), bumper, -1)
    cv2.line(img, (left, by0), (right, by0), _colour(rng, 0, 80), max(ph // 12, 1))
    if rng.random() < 0.6:
        m = rng.uniform(0.1, 0.4)
        recess = (
            (int(px - m * ph), int(py - m * ph)),
            (int(px + pw + m * ph), int(py + ph + m * ph)),
        )
        cv2.rectangle(img, *recess, _colour(rng, 10, 70), -1)
    if rng.random() < 0.7:  # maker's badge or model name above the plate
        word = BADGES[int(rng.integers(len(BADGES)))]
        bx = cx + rng.uniform(-0.35, 0.35) * car_w
        _text(img, word, (bx, py - ph * rng.uniform(0.8, 2.5)), ph * rng.uniform(0.2, 0.5),
              (int(rng.uniform(150, 240)),) * 3, rng)  # fmt: skip
    for _ in range(int(rng.integers(0, 3))):  # stickers on the bumper or the window
        sw, sh = int(pw * rng.uniform(0.3, 0.8)), int(ph * rng.uniform(0.25, 0.5))
        side = rng.choice([-1, 1])
        sx = int(cx + side * pw * rng.uniform(0.7, 1.6) - sw / 2)
        sy = int(rng.uniform(upper, by1 - sh))
        cv2.rectangle(img, (sx, sy), (sx + sw, sy + sh), _colour(rng, 100, 255), -1)
        _text(img, STICKERS[int(rng.integers(len(STICKERS)))], (sx + sw / 2, sy + sh / 2),
              sh * 0.5, _colour(rng, 0, 90), rng)  # fmt: skip
    if rng.random() < 0.5:  # a dealer's frame: print above and below, just outside the plate
        fy, fb = int(ph * rng.uniform(0.12, 0.3)), int(ph * rng.uniform(0.05, 0.12))
        chrome = rng.random() < 0.4
        frame = [int(rng.uniform(170, 230))] * 3 if chrome else [int(rng.uniform(5, 40))] * 3
        cv2.rectangle(img, (px - fb, py - fy), (px + pw + fb, py + ph + fy), frame, -1)
        ink = (int(rng.uniform(0, 40)),) * 3 if chrome else (int(rng.uniform(200, 255)),) * 3
        for y, word_h in ((py - fy / 2, fy * 0.6), (py + ph + fy / 2, fy * 0.6)):
            if rng.random() < 0.8:
                word = DEALER_WORDS[int(rng.integers(len(DEALER_WORDS)))]
                _text(img, word, (px + pw / 2, y), word_h, ink, rng)


def _camera(img: Image, rng: np.random.Generator) -> Image:
    """Daylight exposure, a shadow edge, sensor noise, lens blur and JPEG."""
    height, width = img.shape[:2]
    out = img.astype(np.float32) * rng.uniform(0.75, 1.25) + rng.uniform(-25, 25)
    out *= rng.uniform(0.9, 1.1, 3).astype(np.float32)
    if rng.random() < 0.35:  # a building's or a tree's shadow across part of the frame
        mask = np.zeros((height, width), np.float32)
        pts = rng.uniform(0, 1, (4, 2)) * [width, height]
        pts[:2, 1] = 0 if rng.random() < 0.5 else height
        cv2.fillConvexPoly(mask, cv2.convexHull(pts.astype(np.int32)), 1.0)
        soft = np.asarray(cv2.GaussianBlur(mask, (0, 0), rng.uniform(2, 15)), np.float32)
        out *= (1 - rng.uniform(0.3, 0.6) * soft)[:, :, None]
    out += rng.normal(0, rng.uniform(1, 5), (height, width, 1)).astype(np.float32)
    img = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.3)), np.uint8)
    if rng.random() < 0.6:
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
        if ok:
            img = np.asarray(cv2.imdecode(enc, cv2.IMREAD_COLOR), np.uint8)
    return img


def synth_closeup(rng: np.random.Generator, size: tuple[int, int] = (1024, 768)) -> Scene:
    """A daylight close-up (width, height) = ``size`` of one car and its plate.

    The plate's box is the axis-aligned box around its four corners after the photo's
    perspective, always wholly inside the frame. Same rng state, same picture.
    """
    width, height = _check_size(size)
    img = _street((width, height), rng)
    fmt = _pick_format(rng)
    text = random_plate_text(fmt, rng)
    pw = int(width * float(np.exp(rng.uniform(np.log(0.05), np.log(0.35)))))
    probe = draw_plate(text, fmt, rng, height=8)
    ph = max(round(pw * probe.shape[0] / probe.shape[1]), 8)
    plate = draw_plate(text, fmt, rng, height=ph)
    if fmt == "us" and ph >= 16:
        _us_print(plate, rng)
    ph, pw = plate.shape[:2]
    margin_x, margin_y = 0.08 * width + 0.1 * pw, 0.08 * height + 0.6 * ph
    px = int(rng.uniform(margin_x, max(width - pw - margin_x, margin_x + 1)))
    py = int(
        rng.uniform(max(0.3 * height, margin_y), max(height - ph - margin_y, 0.3 * height + 1))
    )
    py = min(py, height - ph - 1)
    _car(img, (px, py, pw, ph), rng)
    img[py : py + ph, px : px + pw] = plate
    # A mild perspective: each corner of the photo moves up to 3 % of its size.
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    jitter = rng.uniform(-0.03, 0.03, (4, 2)) * [width, height]
    dst = (src + jitter).astype(np.float32)
    warp = cv2.getPerspectiveTransform(src, dst)
    img = np.asarray(
        cv2.warpPerspective(img, warp, (width, height), borderMode=cv2.BORDER_REFLECT), np.uint8
    )
    corners = np.array([[[px, py], [px + pw, py], [px + pw, py + ph], [px, py + ph]]], np.float32)
    moved = cv2.perspectiveTransform(corners, warp)[0]
    x0, y0 = np.clip(moved.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(moved.max(axis=0), 0, [width, height])
    img = _camera(img, rng)
    box = np.array([[x0, y0, x1 - x0, y1 - y0]], np.float32)
    return Scene(img, box, [text], [fmt])
