export {
  type RateLimiterOptions,
  type SendRateLimit,
  type SendRateLimiter,
  type SendRateLimiterOptions,
  createRateLimiter,
  createSendRateLimiter,
} from './send-rate-limiter.js';
export { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
