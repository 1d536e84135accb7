export { type SendRateLimit, type SendRateLimiter, type SendRateLimiterOptions, createSendRateLimiter } from './send-rate-limiter.js';
